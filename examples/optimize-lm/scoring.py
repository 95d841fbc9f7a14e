"""scoring.py: how optimize-lm checks and scores an exported model. Hidden from the agent.

Every function takes the TorchScript module evaluate.py loaded, never train.py's own code, and
computes log-probabilities itself from the raw logits.
"""

import secrets

import torch
import torch.nn.functional as F

CAUSAL_PROBES = 256
# Honest models repeat their outputs exactly on the same device; a model that moved the
# log-probability of the true byte by this much at every position would gain < 0.003 bits/byte.
TOLERANCE_NATS = 2e-3


class Crash(Exception):
    """The run produced no valid metric; the message says why."""


def log_probs(model, x):
    logits = model(x)
    if not isinstance(logits, torch.Tensor):
        raise Crash("the model's forward returned %s, not a tensor of logits" % type(logits).__name__)
    if tuple(logits.shape) != (x.shape[0], x.shape[1], 256):
        raise Crash("the model's forward returned shape %s, expected %s" % (tuple(logits.shape), (x.shape[0], x.shape[1], 256)))
    logits = logits.double()
    if not torch.isfinite(logits).all():
        raise Crash("the model's logits hold NaN or infinity")
    return F.log_softmax(logits, dim=-1)


def batches_of(rows, batch):
    """Rows in full batches of `batch` (the exported shape), the last one padded with row 0."""
    for first in range(0, rows.shape[0], batch):
        chunk = rows[first:first + batch]
        count = chunk.shape[0]
        if count < batch:
            chunk = torch.cat([chunk, rows[:1].expand(batch - count, -1)])
        yield chunk, count


def check_model(model, val, context, batch, device):
    """Deterministic, rows independent of each other, and causal, or a Crash saying which not."""
    rows = torch.stack([val[i * context:(i + 1) * context] for i in range(batch)]).to(device)
    first = log_probs(model, rows)
    if (log_probs(model, rows) - first).abs().max().item() > TOLERANCE_NATS:
        raise Crash("the model is not deterministic in eval mode (dropout or randomness in forward?)")
    others = rows.clone()
    others[1:] = torch.randint(0, 256, others[1:].shape, device=device)
    if (log_probs(model, others)[0] - first[0]).abs().max().item() > TOLERANCE_NATS:
        raise Crash("the model mixes the rows of a batch: each sequence must be predicted on its own")
    # Variant k keeps bytes 0..k-1 of one sequence and replaces the rest with random bytes: a
    # causal model predicts positions 0..k-1 exactly as before.
    base = rows[0]
    cuts = range(1, context) if context - 1 <= CAUSAL_PROBES else sorted(secrets.SystemRandom().sample(range(1, context), CAUSAL_PROBES))
    cuts = list(cuts)
    variants = base.repeat(len(cuts), 1)
    noise = torch.randint(0, 256, variants.shape, device=device)
    for row, k in enumerate(cuts):
        variants[row, k:] = noise[row, k:]
    reference = first[0]
    done = 0
    for chunk, count in batches_of(variants, batch):
        out = log_probs(model, chunk)
        for row in range(count):
            k = cuts[done + row]
            if (out[row, :k] - reference[:k]).abs().max().item() > TOLERANCE_NATS:
                raise Crash("the model is not causal: its prediction at position %d changes with later bytes" % (k - 1))
        done += count


def validation_loss(model, val, context, batch, device):
    """Mean cross-entropy in nats of every byte after the first, in windows of `context` bytes."""
    windows = (val.shape[0] - 1) // context
    x = val[:windows * context].view(windows, context)
    y = val[1:windows * context + 1].view(windows, context)
    total = 0.0
    done = 0
    for chunk, count in batches_of(x, batch):
        out = log_probs(model, chunk.to(device))[:count]
        targets = y[done:done + count].to(device)
        total += -out.gather(2, targets.unsqueeze(-1)).sum().item()
        done += count
    return total / (windows * context)
