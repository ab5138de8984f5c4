/// The stylesheet and the one script, served from the binary (no files to deploy, nothing from
/// elsewhere: many registries have no internet). The pages work without the script; it only adds
/// the copy buttons' clipboard writes.
enum Assets {
    static let stylesheet = """
        :root { --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0a5bd3; --code: #f6f8fa; --warn: #9a3412; --warn-bg: #fff4e5; }
        @media (prefers-color-scheme: dark) {
          :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --accent: #5ea2ff; --code: #161b22; --warn: #fdba74; --warn-bg: #2a1a0b; }
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        a { color: var(--accent); }
        header.site { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
        header.site .brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--fg); }
        header.site form.search { flex: 1 1 16rem; }
        header.site .account { display: flex; gap: 1rem; align-items: center; }
        header.site .account form { margin: 0; }
        input, textarea, button, select { font: inherit; color: inherit; }
        input[type=search], input[type=text], input[type=password], input[type=date], textarea { width: 100%; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
        button { padding: .4rem .9rem; border: 1px solid var(--line); border-radius: 6px; background: var(--code); cursor: pointer; }
        button.danger { color: var(--warn); border-color: var(--warn); }
        main { max-width: 72rem; margin: 0 auto; padding: 1.25rem; }
        footer.site { max-width: 72rem; margin: 2rem auto; padding: 0 1.25rem; color: var(--muted); font-size: .85rem; }
        h1 { font-size: 1.8rem; margin: .5rem 0; word-break: break-word; }
        h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
        .muted, time { color: var(--muted); }
        code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; background: var(--code); border-radius: 6px; }
        code { padding: .1em .3em; word-break: break-all; }
        pre { padding: .75rem 1rem; overflow-x: auto; }
        pre code { padding: 0; word-break: normal; }
        ul.plain { list-style: none; padding: 0; }
        ul.plain li { padding: .5rem 0; border-bottom: 1px solid var(--line); }
        .layout { display: grid; grid-template-columns: minmax(0, 1fr) 20rem; gap: 2rem; }
        @media (max-width: 52rem) { .layout { grid-template-columns: minmax(0, 1fr); } }
        aside section { margin-bottom: 1.5rem; }
        aside h2 { font-size: 1rem; margin-top: 0; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        .table-wrap { overflow-x: auto; }
        .yanked { color: var(--warn); background: var(--warn-bg); border-radius: 4px; padding: 0 .35rem; font-size: .85em; }
        .flash { padding: .6rem .9rem; border-radius: 6px; background: var(--warn-bg); color: var(--warn); }
        .notice { padding: .6rem .9rem; border-radius: 6px; background: var(--code); }
        .copyable { display: flex; gap: .5rem; align-items: flex-start; }
        .copyable pre, .copyable code { flex: 1; margin: 0; }
        .readme img { max-width: 100%; }
        .readme { overflow-wrap: anywhere; }
        form.inline { display: inline; }
        .actions { display: flex; gap: .75rem; flex-wrap: wrap; margin: 1rem 0; }
        fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; }
        label { display: block; margin: .5rem 0 .25rem; }
        label.check { display: inline-flex; gap: .35rem; margin-right: 1rem; }
        .narrow { max-width: 26rem; }
        """

    static let script = """
        "use strict";
        // Copy buttons: <button class="copy" data-copy="text">. Without this script they do nothing.
        document.addEventListener("click", function (event) {
          var button = event.target.closest("button.copy");
          if (!button) { return; }
          var text = button.getAttribute("data-copy") || "";
          var done = function () {
            button.textContent = "Copied";
            setTimeout(function () { button.textContent = "Copy"; }, 2000);
          };
          if (navigator.clipboard && navigator.clipboard.writeText) {
            navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
          } else {
            fallback(text);
            done();
          }
        });
        function fallback(text) {
          var area = document.createElement("textarea");
          area.value = text;
          area.setAttribute("readonly", "");
          area.style.position = "fixed";
          area.style.opacity = "0";
          document.body.appendChild(area);
          area.select();
          try { document.execCommand("copy"); } catch (error) {}
          document.body.removeChild(area);
        }
        """
}
