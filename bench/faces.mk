# face-detection benchmarks (included by the Makefile here). Figures: README.md, "Faces".

.PHONY: faces package-sizes

# Per-image detection time and count-based recall/precision of both detectors on the
# labelled set (face-detection/data/labels.tsv); the data comes from the root `make test-data`.
faces:
	$(MAKE) -C $(ROOT) test-data
	cd $(ROOT) && cargo run --release -q -p face-detection --example faces_bench -- --runs 5

# Approximate package size of each function (exact: make -C infra package).
package-sizes:
	cd $(ROOT) && cargo build --release -q --bins -p content-updated -p face-detection -p update-content-index -p purge-bucket
	bash $(ROOT)/bench/package-sizes.sh
