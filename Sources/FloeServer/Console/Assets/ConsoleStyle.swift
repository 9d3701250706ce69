// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The console's static files, compiled into the binary (no build step, no npm).
enum ConsoleAssets {
    /// The style sheet.
    static let style = #"""
        :root { --ink: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --bg: #f5f7fa; --card: #fff; --accent: #2457c5; --danger: #b42318;
          --ok: #137333; --warn: #a15c00; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); font-size: 14px; line-height: 1.45; }
        a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
        code, pre, textarea { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
        header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #0f1b33; color: #fff; }
        header.top a { color: #fff; }
        .brand { font-weight: 700; font-size: 16px; } .brand span { font-weight: 400; opacity: .7; margin-left: 4px; }
        .crumbs { flex: 1; } .crumbs span { opacity: .6; margin: 0 4px; }
        .who { display: flex; align-items: center; gap: 12px; }
        main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 60px; }
        h1 small { font-size: 13px; font-weight: 400; color: var(--muted); margin-left: 8px; }
        .tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--line); margin-bottom: 16px; }
        .tabs a { padding: 8px 14px; border-bottom: 2px solid transparent; color: var(--muted); }
        .tabs a.active { color: var(--ink); border-bottom-color: var(--accent); font-weight: 600; }
        .bar { display: flex; align-items: center; justify-content: space-between; gap: 12px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 18px 22px; margin: 16px 0; }
        .card.narrow { max-width: 480px; margin: 48px auto; }
        table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); margin: 8px 0 16px; }
        th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef1f5; font-weight: 600; font-size: 13px; }
        td.actions { white-space: nowrap; text-align: right; }
        label { display: block; margin: 10px 0; font-weight: 600; }
        label input, label select { display: block; margin-top: 4px; }
        label.choice { font-weight: 400; } label.choice input { display: inline; margin-right: 6px; }
        input, select, textarea { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        input:not([type=radio]):not([type=checkbox]), select { min-width: 260px; }
        textarea { width: 100%; margin: 10px 0; }
        button, .button { display: inline-block; font: inherit; font-weight: 600; padding: 7px 14px; border-radius: 6px; border: 1px solid var(--accent);
          background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary, .button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: #fff; color: var(--danger); border-color: var(--danger); padding: 3px 10px; }
        button.link { background: none; border: none; color: #fff; padding: 0; text-decoration: underline; }
        button[disabled] { opacity: .45; cursor: default; }
        .buttons { display: flex; align-items: center; gap: 10px; margin-top: 12px; flex-wrap: wrap; }
        .row { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-end; }
        form.inline { display: inline; }
        fieldset { border: none; padding: 0; margin: 0; } legend { font-weight: 700; font-size: 15px; margin-bottom: 6px; }
        .indent { margin-left: 26px; } [hidden] { display: none !important; }
        .flash-notice, .flash-error, .warning { padding: 9px 12px; border-radius: 6px; margin: 12px 0; }
        .flash-notice { background: #e6f4ea; color: var(--ok); } .flash-error { background: #fce8e6; color: var(--danger); }
        .warning { background: #fef7e0; color: var(--warn); }
        .muted, .empty { color: var(--muted); }
        .phase-badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eef1f5; }
        .phase-RUNNING, .phase-PROVISIONED, .phase-COMPLETED { background: #e6f4ea; color: var(--ok); }
        .phase-FAILED, .phase-FAILING { background: #fce8e6; color: var(--danger); }
        .phase-PENDING, .phase-PROVISIONING, .phase-STOPPING, .phase-DELETING { background: #fef7e0; color: var(--warn); }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
        dl.secret code { font-size: 14px; background: #eef1f5; padding: 2px 6px; border-radius: 4px; user-select: all; }
        pre { background: #0f1b33; color: #e8edf5; padding: 12px; border-radius: 6px; overflow: auto; white-space: pre-wrap; }
        .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; }
        .steps { display: flex; gap: 8px; list-style: none; padding: 0; counter-reset: step; }
        .steps li { counter-increment: step; padding: 6px 12px; border-radius: 16px; background: #eef1f5; color: var(--muted); }
        .steps li::before { content: counter(step) ". "; } .steps li.current { background: var(--accent); color: #fff; }
        .results { overflow: auto; max-height: 60vh; }
        td.null { color: var(--muted); font-style: italic; }
        code.sql { white-space: pre-wrap; }
        """#
}
