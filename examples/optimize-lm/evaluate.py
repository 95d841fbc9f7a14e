"""evaluate.py: the fixed harness of optimize-lm. Hidden from the agent.

1. Generates the training text and, later, the validation text from two fixed seeds (the same
   text every run, so that trials compare); the validation text never goes anywhere train.py
   could read it.
2. Runs train.train(data, budget_seconds, device) in a child process, in a scratch folder that
   holds only train.py and the training text. The child's output is captured, not forwarded.
   The child exports the returned model with torch.jit.trace; the harness loads that archive, so
   no code of train.py ever runs in this process. Importing torch and starting the device are
   not counted; everything after (train.py's import, training, export) must end within the
   budget plus a small grace, or the child is killed and the run is a crash.
3. Checks the model (shape, finite logits, deterministic, rows independent, causal), then
   computes the validation loss itself: val_bpb is the mean cross-entropy in bits per byte.
4. Writes run.log at the very end and prints the same "key: value" lines.

Environment: CRUCIBLE_LM_BUDGET_SECONDS (training budget, default 60),
CRUCIBLE_LM_DEVICE (cuda, mps or cpu; default: the first available in that order),
CRUCIBLE_LM_VAL_BYTES (size of the validation text, default 262144; smaller is faster and noisier).
"""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def fail_early(message):
    with open("run.log", "w") as f:
        f.write("error: %s\n" % message)
    sys.stderr.write(message + "\n")
    sys.exit(1)


try:
    import torch
except ImportError:
    fail_early("PyTorch is not installed for %s: create .venv and pip install torch (see README)" % sys.executable)
except Exception as error:  # a broken install: missing shared libraries and the like
    fail_early("PyTorch failed to import for %s: %s" % (sys.executable, str(error).splitlines()[0] if str(error) else type(error).__name__))

sys.path.insert(0, HERE)
from corpus import generate_text  # noqa: E402  (after the torch check, on purpose)
from scoring import Crash, check_model, validation_loss  # noqa: E402

TRAIN_SEED = 20250101
VAL_SEED = 904211733  # never in a file the agent sees; change it to get fresh held-out text
TRAIN_BYTES = 2_000_000
EVAL_TOKENS_PER_BATCH = 4096
MAX_CONTEXT = 1024
STARTUP_LIMIT_SECONDS = 180
OUTPUT_TAIL_LINES = 25

# Runs in the child, with the scratch folder as its working directory and first import path.
CHILD = r"""
import json, os, sys, threading, time
import torch
budget, device = float(sys.argv[1]), sys.argv[2]
tokens_per_batch, max_context, harness = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def watch_harness():  # a harness killed outright cannot stop this process: it stops itself
    while os.getppid() == harness:
        time.sleep(0.5)
    os._exit(1)

threading.Thread(target=watch_harness, daemon=True).start()
torch.zeros(1, device=device)  # start the device before the clock does
open("ready", "w").close()
import train
with open("train.bin", "rb") as f:
    data = f.read()
model = train.train(data, budget, device)
model = getattr(model, "_orig_mod", model)  # torch.compile wraps the module it was given
if not isinstance(model, torch.nn.Module):
    sys.exit("train() returned %s, not a torch.nn.Module" % type(model).__name__)
context = getattr(model, "context_length", None)
if not isinstance(context, int) or not 8 <= context <= max_context:
    sys.exit("the model needs an int attribute context_length between 8 and %d, not %r" % (max_context, context))
model.eval()
example = torch.randint(0, 256, (max(1, tokens_per_batch // context), context), device=device)
with torch.no_grad():
    traced = torch.jit.trace(model, example, check_trace=False)
traced.save("model.pt")
with open("meta.json", "w") as f:
    json.dump({"context_length": context}, f)
"""


def main():
    # crucible stops a run that is too slow with SIGTERM to this process group; the child runs in
    # a group of its own, so it is killed on the way out (the finally blocks below).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    budget = float(os.environ.get("CRUCIBLE_LM_BUDGET_SECONDS", "60"))
    device = os.environ.get("CRUCIBLE_LM_DEVICE") or pick_device()
    val_bytes = int(os.environ.get("CRUCIBLE_LM_VAL_BYTES", "262144"))
    scratch = tempfile.mkdtemp(prefix="crucible-lm-")
    try:
        try:
            lines = run(scratch, budget, device, val_bytes)
        except Crash as crash:
            finish(["error: %s" % str(crash).splitlines()[0]], str(crash))
            return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    finish(lines)
    return 0


def stop(signum, frame):
    raise SystemExit(128 + signum)


def pick_device():
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def run(scratch, budget, device, val_bytes):
    shutil.copy(os.path.join(HERE, "train.py"), os.path.join(scratch, "train.py"))
    with open(os.path.join(scratch, "train.bin"), "wb") as f:
        f.write(generate_text(TRAIN_SEED, TRAIN_BYTES).encode("ascii"))
    train_seconds = train_in_child(scratch, budget, device)
    context = read_context(scratch)
    batch = max(1, EVAL_TOKENS_PER_BATCH // context)
    try:
        model = torch.jit.load(os.path.join(scratch, "model.pt"), map_location=device)
    except Exception as error:
        raise Crash("cannot load the exported model: %s" % error)
    started = time.time()
    text = generate_text(VAL_SEED, max(val_bytes, batch * context) + 1).encode("ascii")
    val = torch.frombuffer(bytearray(text), dtype=torch.uint8).long()
    with torch.no_grad():
        check_model(model, val, context, batch, device)
        nats = validation_loss(model, val, context, batch, device)
    parameters = sum(p.numel() for p in model.parameters())
    return [
        "val_bpb: %.4f" % (nats / math.log(2)),
        "val_loss: %.4f" % nats,
        "context_length: %d" % context,
        "parameters: %d" % parameters,
        "train_seconds: %.1f" % train_seconds,
        "eval_seconds: %.1f" % (time.time() - started),
        "budget_seconds: %g" % budget,
        "device: %s" % device,
    ]


def train_in_child(scratch, budget, device):
    """Runs the child; returns the seconds from the device being ready to the export saved."""
    grace = 5 + 0.05 * budget
    log_path = os.path.join(scratch, "train.out")
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, repr(budget), device, str(EVAL_TOKENS_PER_BATCH), str(MAX_CONTEXT), str(os.getpid())],
            cwd=scratch, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    started = time.time()
    ready = None
    try:
        while child.poll() is None:
            now = time.time()
            if ready is None and os.path.exists(os.path.join(scratch, "ready")):
                ready = now
            if ready is None and now - started > STARTUP_LIMIT_SECONDS:
                raise Crash("the training process did not start within %ds (importing torch)" % STARTUP_LIMIT_SECONDS)
            if ready is not None and now - ready > budget + grace:
                raise Crash("train.py ran past its time budget (%gs + %.0fs grace): stop training at budget_seconds" % (budget, grace))
            time.sleep(0.05)
    finally:
        kill_group(child)
    if ready is None:
        ready = started
    if child.returncode != 0:
        raise Crash("train.py failed (exit code %d):\n%s" % (child.returncode, output_tail(log_path)))
    return time.time() - ready


def kill_group(child):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def output_tail(path):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").rstrip().splitlines()
    return "\n".join(lines[-OUTPUT_TAIL_LINES:])


def read_context(scratch):
    try:
        with open(os.path.join(scratch, "meta.json")) as f:
            context = json.load(f)["context_length"]
    except (OSError, ValueError, KeyError, TypeError):
        raise Crash("the training process exported no model")
    if not isinstance(context, int) or not 8 <= context <= MAX_CONTEXT:
        raise Crash("bad context_length %r" % (context,))
    return context


def finish(lines, error=None):
    """run.log, written last and in full, and the same lines on stdout; errors also on stderr."""
    text = "\n".join(lines) + "\n"
    with open("run.log", "w") as f:
        f.write(text)
    sys.stdout.write(text)
    if error is not None:
        sys.stderr.write(error + "\n")


if __name__ == "__main__":
    sys.exit(main())
