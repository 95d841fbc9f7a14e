#!/bin/bash
# GPU check for issue 8: parallel.gpus auto on a real NVIDIA machine, slots sharing one GPU.
set -u
cd "$(dirname "$0")"
mkdir -p /tmp/nodebin && tar -C /tmp/nodebin -xJf node.tar.xz && export PATH=/tmp/nodebin:$PATH
node --version; git --version; nvidia-smi -L; python3 -c "import torch; print(torch.__version__, torch.cuda.is_available())"
C="node $PWD/pkg/dist/cli/main.js"
W=/tmp/gpuproj; rm -rf $W; cp -r proj $W; cd $W
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t NO_COLOR=1
git init -q -b main && git add -A && git commit -qm init
echo "== validate"; $C validate; echo "exit $?"
echo "== run 1 worker, gpus auto"; $C run --tag g1 -n 6 --no-interactive; echo "exit $?"
grep -h "slot=" .crucible/runs/g1/trials/*/run.log | sort | uniq -c
$C history --tag g1
echo "== 2 workers, gpus auto, 1 GPU (must refuse)"; $C run --tag g2 -n 2 --workers 2 --no-interactive; echo "exit $?"
echo "== 2 workers sharing GPU 0 (gpus: [0, 0])"
sed -i 's/parallel: { workers: 1, gpus: auto }/parallel: { workers: 2, gpus: [0, 0] }/' .crucible/config.yaml && git commit -qam two
$C run --tag g3 -n 6 --no-interactive; echo "exit $?"
grep -h "slot=" .crucible/runs/g3/trials/*/run.log | sort | uniq -c
$C status --tag g3; $C history --tag g3 --json | python3 -c "import json,sys; print([(r['trial'], r['status'], r.get('slot')) for r in json.load(sys.stdin)])"
git worktree list; git status --short
