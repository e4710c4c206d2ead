#!/bin/bash
# Set up pftune on a Debian/Ubuntu machine with the CUDA 13 toolkit at
# /usr/local/cuda (a GPU is optional): install missing packages, build.
#
#   tools/setup.sh          install what is missing, build build/ (optimized, -Werror)
#   tools/setup.sh --test   also build build-asan/ (ASan+UBSan) and run every
#                           test but the GPU ones and benchmarks (ctest -LE 'gpu|bench|bundle'),
#                           then the GPU bundle rehearsal (ctest -L bundle: builds
#                           build-release/ and a bundle, runs it with the tree and
#                           its libraries hidden; needs root + unshare -m), then
#                           build build-tsan/ (ThreadSanitizer) and run the emu
#                           checks under --sanitize race (ctest -L sanitize), then
#                           build build-fuzz/ (clang libFuzzer) and fuzz each
#                           parser for 60 s (ctest -L fuzz; PFTUNE_FUZZ_SECONDS)
#   tools/setup.sh --hf     only the packages and .hf-venv/ (CPU torch,
#                           transformers 5.24.0, safetensors, numpy): what
#                           tests/hf/make_reference.py needs to regenerate the
#                           committed HF fixtures (tests/fixtures/hf-gemma3-*);
#                           no test needs it
#
# Idempotent and quick when everything is present: packages are checked with
# dpkg -s first, and cmake rebuilds only what changed.
set -euo pipefail

cd "$(dirname "$0")/.."
run_tests=0
hf=0
for arg in "$@"; do
    case "$arg" in
        --test) run_tests=1 ;;
        --hf) hf=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option '$arg' (use --test, --hf or --help)" >&2; exit 2 ;;
    esac
done

say() { echo "setup: $*"; }
jobs=$(nproc 2>/dev/null || echo 2)

# 1. packages
# clang + libclang-rt-dev: libFuzzer for the fuzz tests (libclang_rt.fuzzer is
# only a Recommends of clang, which --no-install-recommends skips).
# python3-venv: the project-local venv of step 2b. python3-numpy: the export
# test's Python binding check (tests/export_consumer/check_pfattn.py).
# slurmctld slurmd slurm-client munge: the one-node cluster of the Slurm test
# (tests/integration/slurm_cluster.sh starts its own daemons, ports and key).
packages=(build-essential cmake pkg-config libjansson-dev libopenblas-dev libxxhash-dev gnuplot-nox
          clang libclang-rt-dev python3 python3-venv python3-numpy
          slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "packages present"
fi

# 1b. --hf: the venv of the HF fixture script, and nothing else
if [ "$hf" = 1 ]; then
    hfv=.hf-venv
    say "installing torch (CPU wheel), transformers 5.24.0, safetensors, numpy into $hfv"
    [ -x "$hfv/bin/pip" ] || python3 -m venv "$hfv"
    # the CPU wheel is small; where PyTorch's index is unreachable, PyPI's
    "$hfv/bin/pip" install -q --retries 1 --index-url https://download.pytorch.org/whl/cpu torch ||
        "$hfv/bin/pip" install -q torch
    "$hfv/bin/pip" install -q transformers==5.24.0 safetensors numpy
    say "done: $hfv/bin/python tests/hf/make_reference.py rewrites tests/fixtures/hf-gemma3-*"
    exit 0
fi

# 2. CUDA toolkit (NVRTC, nvJitLink, cuBLASLt, CUPTI; no driver needed)
cuda=${CUDA_HOME:-/usr/local/cuda}
if [ ! -f "$cuda/include/nvrtc.h" ]; then
    echo "setup: no CUDA toolkit at $cuda (install CUDA 13 there or set CUDA_HOME)" >&2
    exit 1
fi
export CUDAToolkit_ROOT=$cuda

# 2b. NVIDIA's SASS disassemblers for `pftune analyze`: the toolkit image
# ships neither nvdisasm nor cuobjdump, PyPI has them as wheels. Installed
# into .tools-venv (pftune looks there), same CUDA major as the toolkit.
venv=.tools-venv
have_tool() { compgen -G "$venv/lib/python3*/site-packages/nvidia/cu*/bin/$1" >/dev/null; }
if have_tool nvdisasm && have_tool cuobjdump; then
    say "nvdisasm and cuobjdump present ($venv)"
else
    major=$("$cuda/bin/nvcc" --version 2>/dev/null | sed -n 's/.*release \([0-9]*\)\..*/\1/p')
    major=${major:-13}
    say "installing nvidia-cuda-nvdisasm, nvidia-cuda-cuobjdump ($major.x) into $venv"
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q "nvidia-cuda-nvdisasm>=$major,<$((major + 1))" \
        "nvidia-cuda-cuobjdump>=$major,<$((major + 1))"
fi

# 3. build: the binary ...
say "building build/ (optimized, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPF_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

[ "$run_tests" = 1 ] || { say "done: build/pftune"; exit 0; }

# ... and the sanitizer build the tests run on
say "building build-asan/ (ASan + UBSan)"
cmake -S . -B build-asan -DPF_SANITIZE=ON -DPF_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
say "running tests (every label but gpu, bench and bundle)"
ctest --test-dir build-asan --output-on-failure -LE 'gpu|bench|bundle' -j"$jobs"

# ... and the rehearsal of a GPU run from the bundle (tests/bundle/)
say "rehearsing the GPU bundle (build-release/, tree and libraries hidden)"
ctest --test-dir build-asan --output-on-failure -L bundle

# ... and the emu race check: ThreadSanitizer cannot share a build with ASan
say "building build-tsan/ (ThreadSanitizer) and running the emu checks (ctest -L sanitize)"
cmake -S . -B build-tsan -DPF_TSAN=ON -DPF_WERROR=ON >/dev/null
cmake --build build-tsan -j"$jobs"
ctest --test-dir build-tsan --output-on-failure -L sanitize -j"$jobs"

# ... and the parser fuzzers (tests/fuzz/CMakeLists.txt: its own project, no CUDA)
say "building build-fuzz/ (clang libFuzzer) and fuzzing every parser"
cmake -S tests/fuzz -B build-fuzz -DCMAKE_C_COMPILER=clang -DPF_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz --output-on-failure -L fuzz -j"$jobs"
