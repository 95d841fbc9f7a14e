import os, time, importlib.util
import torch
spec = importlib.util.spec_from_file_location("train", "train.py"); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print(f"slot={os.environ.get('CRUCIBLE_SLOT')} CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')} devices={torch.cuda.device_count()} name={torch.cuda.get_device_name(0)}", flush=True)
n = int(m.N)
a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16); b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
for _ in range(3): a @ b
torch.cuda.synchronize(); k = 20; t = time.perf_counter()
for _ in range(k): a @ b
torch.cuda.synchronize(); dt = time.perf_counter() - t
print(f"tflops: {2 * n**3 * k / dt / 1e12:.2f}")
