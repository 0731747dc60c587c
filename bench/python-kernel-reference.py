"""The reference for bench/notebook-kernel.mjs: the same measurements on a Jupyter Python kernel
(ipykernel from Debian), driven by jupyter_client. Prints one JSON line."""
import json, statistics, sys, time
from jupyter_client.manager import start_new_kernel

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5

def run(kc, code):
    kc.execute_interactive(code, store_history=False, timeout=60, output_hook=lambda msg: None)

starts, ones, consts = [], [], []
for rep in range(reps):
    t = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3")
    run(kc, "1")
    starts.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    for _ in range(75):
        run(kc, "1")
    ones.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    for i in range(75):
        run(kc, f"c{i} = {i}")
    consts.append((time.perf_counter() - t) * 1000)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps({"start_to_first_result_ms": statistics.median(starts), "cells_of_1_x75_ms": statistics.median(ones), "const_cells_x75_ms": statistics.median(consts)}))
