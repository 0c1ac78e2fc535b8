/**
 * The admin page's one stylesheet, inline in every page; the Content-Security-Policy allows it by
 * its SHA-256 (page-headers.ts), so a change here needs nothing else. Colours `.c0`–`.c7` are the
 * charts' series, as SVG fills and as legend swatches.
 */
export const stylesheet = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5f6b7a; --line: #dde3ea; --paper: #f5f7fa; --accent: #2457c5; --bad: #b3261e; --good: #1b7f3b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--paper); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #17202e; color: #fff; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; }
header nav { display: flex; gap: 16px; flex: 1; }
header a { color: #c9d6ea; text-decoration: none; }
header a:hover { color: #fff; }
header form button { background: transparent; color: #c9d6ea; border: 1px solid #4a5872; }
main { max-width: 1680px; margin: 0 auto; padding: 16px 24px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 8px; color: var(--muted); font-weight: 600; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.bad { color: var(--bad); }
.good { color: var(--good); }
.section-head { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
.section-head h2 { margin-right: auto; }
.choices a, .choices strong { margin-left: 8px; }
.choices strong { padding: 1px 8px; border-radius: 10px; background: var(--accent); color: #fff; font-weight: 500; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
th { font-weight: 600; color: var(--muted); background: #fafbfc; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.revoked td { color: var(--muted); }
tr.revoked td.name { text-decoration: line-through; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: #eef1f5; padding: 1px 4px; border-radius: 4px; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-bottom: 8px; }
.total { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.total .label { display: block; font-size: 12px; color: var(--muted); }
.total .value { display: block; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.total .detail { display: block; font-size: 12px; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 11px; fill: var(--muted); }
svg.chart text.bar-total { fill: var(--ink); font-weight: 600; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .axis { stroke: #9aa6b4; stroke-width: 1; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 0 0; padding: 0; list-style: none; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.c0 { fill: #2457c5; background: #2457c5; } .c1 { fill: #e07b1f; background: #e07b1f; } .c2 { fill: #2a9d6b; background: #2a9d6b; }
.c3 { fill: #c2417d; background: #c2417d; } .c4 { fill: #7a5bd0; background: #7a5bd0; } .c5 { fill: #2b9fb5; background: #2b9fb5; }
.c6 { fill: #a08a1c; background: #a08a1c; } .c7 { fill: #8e99a8; background: #8e99a8; }
form.inline { display: inline; }
button { font: inherit; padding: 4px 12px; border-radius: 5px; border: 1px solid #b8c2cf; background: #fff; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); border-color: #e3b3ae; }
input[type=text], input[type=password], input[type=number] { font: inherit; padding: 4px 8px; border: 1px solid #b8c2cf; border-radius: 5px; }
.fields { display: flex; flex-wrap: wrap; gap: 10px 14px; align-items: flex-end; }
.fields label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
.fields input[type=number] { width: 130px; }
.fields input.wide { width: 260px; }
tr.edit-row { display: none; }
tr.edit-row:target { display: table-row; background: #f7f9fc; }
tr.edit-row td { white-space: normal; padding: 10px 8px; }
details.inline { display: inline-block; }
details summary { cursor: pointer; color: var(--accent); }
details[open] { background: #f7f9fc; border-radius: 6px; padding: 6px 8px; white-space: normal; }
.notice, .error, .created-key { border-radius: 6px; padding: 10px 14px; margin: 16px 0 0; }
.notice { background: #e8f1ff; border: 1px solid #b9d0f5; }
.error { background: #fdecea; border: 1px solid #f1b9b3; color: var(--bad); }
.created-key { background: #fff8e1; border: 1px solid #f0d48a; }
.created-key code { font-size: 14px; padding: 3px 8px; user-select: all; }
.account { border-top: 1px solid var(--line); padding: 10px 0; }
.account:first-of-type { border-top: 0; }
.account h3 { margin: 0 0 6px; color: var(--ink); font-size: 14px; }
.account > table > tbody > tr > th { width: 150px; }
.window { display: inline-block; margin-right: 20px; }
.meter { vertical-align: middle; border-radius: 4px; }
table.cooldowns { width: auto; }
.sign-in { max-width: 420px; margin: 12vh auto; }
.sign-in input[type=password] { width: 100%; margin: 6px 0 12px; }
`;
