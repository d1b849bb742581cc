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
	taskset -c 0 $(CARGO_TARGET_DIR)/release/examples/faces_bench --runs 5

# Side by side, one core, decode included: face-detection's detection path (the `faces`
# example) against the same CenterFace model in Python OpenCV (opencv-python-headless), on the
# photo set's JPEGs of 8 MP and more and on the labelled set.
faces-opencv: $(VENV)/.installed images
	$(MAKE) -C $(ROOT) test-data
	cd $(ROOT) && cargo build --release -q --workspace --all-targets
	$(VENV)/bin/python faces_opencv.py $(CARGO_TARGET_DIR)/release/examples/faces $(DATA)/extracted \
	  $(FACE_DATA_DIR) $(FACE_MODEL_DIR)/centerface.onnx

# Each function's binary in the `lambda` profile (what `make -C infra package` ships: one
# native x86_64 cargo invocation for all six here, where the package cross-builds four for
# arm64) beside the workspace's release one, and its approximate package (exact: make -C infra
# package). The lambda profile has its own target directory, so this compiles every dependency
# once more (about 25 minutes on 2 cores the first time).
LAMBDA_FUNCTIONS := content-updated face-detection update-content-index purge-bucket migrate-user repair
package-sizes:
	cd $(ROOT) && cargo build --release -q --workspace --all-targets
	cd $(ROOT) && cargo build --profile lambda -q $(addprefix -p ,$(LAMBDA_FUNCTIONS))
	bash $(ROOT)/bench/package-sizes.sh
