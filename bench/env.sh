#!/usr/bin/env bash
# Print the environment a benchmark figure was measured in (to paste beside every figure).
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
echo "kernel: $(uname -r)"
echo "cc: $(cc --version | head -1)"
echo "openblas: $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo unknown)"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset} OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
# sched_autogroup 1: the kernel schedules each session as one group, so another session's
# `nice -n 19` job still takes a fair share of the cores from a benchmark (docs/benchmarks.md,
# "Threads", Run 5)
echo "sched_autogroup_enabled: $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo unknown)"
