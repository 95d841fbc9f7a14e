/** The page's stylesheet: plain CSS, no fonts or images to fetch. */
export const PAGE_STYLE = String.raw`
:root { --fg: #1d2330; --dim: #6b7280; --line: #e5e7eb; --bg: #fff; --panel: #f8fafc;
  --keep: #15803d; --discard: #9ca3af; --crash: #dc2626; --base: #2563eb; --best: #15803d; --other: #a16207; --cmp: #7c3aed; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 16px; align-items: center; padding: 10px 20px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
main { padding: 12px 20px; max-width: 1400px; }
h2 { font-size: 15px; margin: 18px 0 8px; }
nav button { margin-right: 4px; border: 1px solid var(--line); background: var(--panel); padding: 3px 10px; border-radius: 4px; cursor: pointer; }
nav button.on { background: var(--fg); color: #fff; }
.badge { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: var(--panel); border: 1px solid var(--line); }
.badge.live { background: #dcfce7; border-color: #86efac; }
#cards { display: flex; gap: 10px; flex-wrap: wrap; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 90px; background: var(--panel); }
.card .k { color: var(--dim); font-size: 12px; }
.card .v { font-size: 18px; font-variant-numeric: tabular-nums; }
.controls { display: flex; gap: 16px; align-items: center; margin-bottom: 6px; color: var(--dim); flex-wrap: wrap; }
#chart svg { width: 100%; max-width: 1100px; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: crosshair; }
.axis { stroke: #9ca3af; stroke-width: 1; }
.tick { fill: var(--dim); font-size: 11px; }
[class^="pt-"] { fill: none; stroke-linecap: round; stroke-width: 5; }
.pt-keep { stroke: var(--keep); stroke-width: 6.5; } .pt-baseline { stroke: var(--base); stroke-width: 6.5; } .pt-discard { stroke: var(--discard); }
.pt-failed { stroke: var(--crash); } .pt-cmp { stroke: var(--cmp); opacity: .7; stroke-width: 5.5; } .pt-flight { stroke: var(--other); }
.noise { fill: var(--best); fill-opacity: 0.12; stroke: none; } .sw.noise { background: var(--best); opacity: 0.25; }
.best { fill: none; stroke: var(--best); stroke-width: 2; } .best-cmp { fill: none; stroke: var(--cmp); stroke-width: 2; stroke-dasharray: 5 3; }
.edge { fill: none; stroke: #94a3b8; stroke-width: .7; opacity: .6; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--dim); margin-top: 4px; flex-wrap: wrap; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 4px; vertical-align: -1px; }
.sw.keep { background: var(--keep); } .sw.discard { background: var(--discard); } .sw.failed { background: var(--crash); }
.sw.baseline { background: var(--base); } .sw.cmp { background: var(--cmp); } .sw.best { background: var(--best); height: 3px; border-radius: 0; vertical-align: 3px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.desc { white-space: normal; max-width: 520px; overflow-wrap: anywhere; }
th { cursor: pointer; user-select: none; color: var(--dim); font-weight: 600; }
th.sorted::after { content: " \25BE"; } th.sorted.up::after { content: " \25B4"; }
#trials tbody tr { cursor: pointer; } #trials tbody tr:hover { background: var(--panel); } #trials tbody tr.sel { background: #e0e7ff; }
.o-keep { color: var(--keep); font-weight: 600; } .o-baseline { color: var(--base); font-weight: 600; } .o-discard { color: var(--dim); }
.o-crash, .o-violation, .o-agent-error { color: var(--crash); } .o-flight { color: var(--other); }
#detail { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin-top: 12px; background: var(--panel); }
#detail dl { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 14px; margin: 8px 0; }
#detail dt { color: var(--dim); } #detail dd { margin: 0; }
.tabs button { border: 1px solid var(--line); background: #fff; padding: 3px 10px; cursor: pointer; }
.tabs button.on { background: var(--fg); color: #fff; }
pre { background: #fff; border: 1px solid var(--line); padding: 8px; max-height: 480px; overflow: auto; font: 12px/1.35 ui-monospace, Menlo, Consolas, monospace; white-space: pre; }
pre .add { color: #15803d; } pre .del { color: #b91c1c; } pre .hunk { color: #6d28d9; }
.muted { color: var(--dim); }
button.more { margin-top: 6px; }
`;
