"""train.py: the model and training loop the agent improves.

The hidden harness calls train(data, budget_seconds, device) once and scores the model it
returns on held-out text it never shows. The contract:

- data: the training text as bytes (ASCII English-like prose, about 2 MB).
- budget_seconds: wall-clock seconds for training. Return by then: the harness kills a run
  that goes far past it (model building, training and a last step all count).
- device: "cuda", "mps" or "cpu", already chosen.
- Return a torch.nn.Module with an int attribute context_length (8..1024) whose forward(idx)
  takes a LongTensor of byte values of shape (batch, context_length) and returns logits of
  shape (batch, context_length, 256): position t predicts byte t + 1 from bytes 0..t only.
  The harness puts it in eval mode, exports it with torch.jit.trace at that exact shape, checks
  that it is causal and deterministic, and computes the loss itself.
"""

import math
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

VOCAB_SIZE = 256  # bytes
CONTEXT_LENGTH = 64  # @tune 16..512 int log
N_LAYER = 2  # @tune 1..8 int
N_EMBD = 64  # @tune 32..512 int log
N_HEAD = 4
BATCH_SIZE = 8  # @tune 4..256 int log
LEARNING_RATE = 3e-4  # @tune 1e-4..1e-2 log
WEIGHT_DECAY = 0.0  # @tune 0.0..0.2
SEED = 1337


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, context_length):
        super().__init__()
        self.n_head = n_head
        self.scale = 1.0 / math.sqrt(n_embd // n_head)
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        mask = torch.tril(torch.ones(context_length, context_length, dtype=torch.bool))
        self.register_buffer("mask", mask.view(1, 1, context_length, context_length), persistent=False)

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.qkv(x).split(c, dim=2)
        q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * self.scale
        att = att.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, context_length):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, context_length)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ByteGPT(nn.Module):
    """A small GPT over bytes: token and position embeddings, transformer blocks, a linear head."""

    def __init__(self, context_length, n_layer, n_embd, n_head):
        super().__init__()
        self.context_length = context_length
        self.tok = nn.Embedding(VOCAB_SIZE, n_embd)
        self.pos = nn.Embedding(context_length, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, context_length) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, VOCAB_SIZE)

    def forward(self, idx):
        t = idx.size(1)
        positions = torch.arange(t, device=idx.device)
        x = self.tok(idx) + self.pos(positions)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def train(data, budget_seconds, device):
    started = time.time()
    torch.manual_seed(SEED)
    tokens = torch.frombuffer(bytearray(data), dtype=torch.uint8).long()
    n_head = N_HEAD if N_EMBD % N_HEAD == 0 else 1
    model = ByteGPT(CONTEXT_LENGTH, N_LAYER, N_EMBD, n_head).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

    model.train()
    step = 0
    while time.time() - started < budget_seconds:
        starts = torch.randint(len(tokens) - CONTEXT_LENGTH - 1, (BATCH_SIZE,))
        x = torch.stack([tokens[s:s + CONTEXT_LENGTH] for s in starts]).to(device)
        y = torch.stack([tokens[s + 1:s + CONTEXT_LENGTH + 1] for s in starts]).to(device)
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, VOCAB_SIZE), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        if step % 100 == 0:
            print("step %d loss %.4f (%.1fs)" % (step, loss.item(), time.time() - started))
    return model
