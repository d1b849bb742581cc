# face-detection benchmarks (included by the Makefile here). Figures: README.md, "Faces".

.PHONY: faces package-sizes

# Per-image detection time and count-based recall/precision of both detectors on the
# labelled set (face-detection/data/labels.tsv); the data comes from the root `make test-data`.
faces:
	$(MAKE) -C $(ROOT) test-data
	cd $(ROOT) && cargo run --release -q -p face-detection --example faces_bench -- --runs 5

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
