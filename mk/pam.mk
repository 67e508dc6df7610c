# Owned by pam-module/: builds and tests pam_jmp.so and libnss_jmp.so.2.
#   pam-build  release build: build/pam/pam_jmp.so, build/pam/libnss_jmp.so.2
#   pam-test   ctest of the release build (+ valgrind runs) and of the
#              ASan/UBSan build in build/pam-asan/
#   fuzz       libFuzzer targets (clang-14) in build/pam-fuzz/, each run for
#              FUZZ_SECONDS seconds on the corpus in pam-module/fuzz/corpus/
.PHONY: pam-build pam-test pam-asan-build fuzz

FUZZ_SECONDS ?= 60
PAM_JOBS := $(shell nproc 2>/dev/null || echo 2)
PAM_FUZZ_TARGETS := response nss_line

pam-build: deps
	cmake -S pam-module -B build/pam -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/pam -j $(PAM_JOBS)

pam-asan-build: deps
	cmake -S pam-module -B build/pam-asan -DJMP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build/pam-asan -j $(PAM_JOBS)

pam-test: deps pam-build pam-asan-build
	cd build/pam && ctest --output-on-failure
	cd build/pam-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure

fuzz: deps
	cmake -S pam-module -B build/pam-fuzz -DJMP_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build/pam-fuzz -j $(PAM_JOBS)
	@# The targets run side by side (one core each), then each one's stats are printed.
	@mkdir -p build/pam-fuzz/artifacts; pids=(); \
	for t in $(PAM_FUZZ_TARGETS); do \
	  mkdir -p build/pam-fuzz/corpus/$$t; \
	  echo "fuzz: fuzz_$$t for $(FUZZ_SECONDS)s"; \
	  build/pam-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/pam-fuzz/artifacts/ \
	    build/pam-fuzz/corpus/$$t pam-module/fuzz/corpus/$$t 2>build/pam-fuzz/fuzz_$$t.log & pids+=($$!); \
	done; \
	fail=0; i=0; \
	for t in $(PAM_FUZZ_TARGETS); do \
	  if ! wait $${pids[$$i]}; then echo "fuzz: fuzz_$$t failed"; tail -n 60 build/pam-fuzz/fuzz_$$t.log; fail=1; fi; i=$$((i + 1)); \
	  echo "fuzz: fuzz_$$t"; grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' build/pam-fuzz/fuzz_$$t.log || true; \
	done; \
	exit $$fail
