# face-detection benchmarks (included by the Makefile here). Figures: README.md, "Faces".

.PHONY: faces faces-labelled faces-opencv package-sizes

FACE_CACHE ?= $(HOME)/.cache/media-share
FACE_DATA_DIR ?= $(FACE_CACHE)/face-data
FACE_MODEL_DIR ?= $(FACE_CACHE)/models

faces: faces-labelled faces-opencv

# Per-image detection time and count-based recall/precision of both detectors on the
# labelled set (face-detection/data/labels.tsv); the data comes from the root `make test-data`.
faces-labelled:
	$(MAKE) -C $(ROOT) test-data
	cd $(ROOT) && cargo build --release -q --workspace --all-targets
	set -o pipefail; taskset -c 0 $(CARGO_TARGET_DIR)/release/examples/faces_bench --runs 5 \
	  | tee $(if $(BENCH_RESULTS),$(BENCH_RESULTS)/faces-labelled.md,/dev/null)

# Side by side, one core, decode included: face-detection's detection path (the `faces`
# example) against the same CenterFace model in Python OpenCV (opencv-python-headless), on the
# photo set's JPEGs of 8 MP and more and on the labelled set.
faces-opencv: $(VENV)/.installed images
	$(MAKE) -C $(ROOT) test-data
	cd $(ROOT) && cargo build --release -q --workspace --all-targets
	$(VENV)/bin/python faces_opencv.py $(CARGO_TARGET_DIR)/release/examples/faces $(DATA)/extracted \
	  $(FACE_DATA_DIR) $(FACE_MODEL_DIR)/centerface.onnx

# Each function's package as a deployer uploads it (`make package`) and as the local stack
# deploys it (`make package-local`: the stack steps after this one use it), beside the
# workspace's release binary; bench/package-sizes.sh says what is counted.
package-sizes:
	cd $(ROOT) && cargo build --release -q --workspace --all-targets
	$(MAKE) -C $(ROOT) package package-local
	bash $(ROOT)/bench/package-sizes.sh
