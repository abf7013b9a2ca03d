// Renders plan Markdown the way GitHub shows a pull-request comment
// (marked for the Markdown, mermaid 11 for the diagrams) in headless
// Chromium, and fails on what a reviewer would see go wrong:
//   - a comment over GitHub's 65,536-character limit;
//   - a mermaid block that does not parse or render (GitHub shows an
//     error box instead);
//   - a diagram drawn below half its natural size in a 1,012 px wide
//     comment, where its text becomes unreadable.
//
// Usage: node scripts/render-check.cjs CHROMIUM DEPS_DIR [--comment] FILE.md ... [--full] FILE.md ...
// Files after --comment are held to the size limit, files after --full
// (the `show --format markdown > plan.md` form) only to rendering.
'use strict';

const fs = require('fs');
const path = require('path');

const [chromium, deps, ...rest] = process.argv.slice(2);
const need = (m) => require(path.join(path.resolve(deps), 'node_modules', m));
const { marked } = need('marked');
const puppeteer = need('puppeteer-core');
const mermaidJS = path.join(path.resolve(deps), 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');

const COMMENT_LIMIT = 65536; // GitHub refuses a longer comment body
const WIDTH = 1012; // the comment body's width on github.com
const MIN_SCALE = 0.5;

const files = [];
let kind = 'comment';
for (const a of rest) {
  if (a === '--comment' || a === '--full') kind = a.slice(2);
  else files.push({ file: a, kind });
}

(async () => {
  const failures = [];
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // root in CI: Chromium's sandbox needs a user namespace it may not get
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    // One page for every file: loading mermaid is the slow part.
    const page = await browser.newPage();
    await page.setViewport({ width: WIDTH, height: 900 });
    await page.setContent(
      `<!doctype html><html><head><meta charset="utf-8"><style>
        body { margin: 0; font: 14px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
        #body { width: ${WIDTH}px; box-sizing: border-box; padding: 0 16px; }
        .diagram svg { display: block; }
      </style></head><body><div id="body"></div></body></html>`,
      { waitUntil: 'load' },
    );
    await page.addScriptTag({ path: mermaidJS });
    await page.evaluate(() => {
      // GitHub's defaults: strict security, default theme, limits kept.
      window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
    });
    for (const [n, { file, kind }] of files.entries()) {
      const md = fs.readFileSync(file, 'utf8');
      const chars = [...md].length;
      if (kind === 'comment' && chars > COMMENT_LIMIT) {
        failures.push(`${file}: ${chars} characters, over GitHub's comment limit of ${COMMENT_LIMIT}`);
      }
      // GitHub turns ```mermaid blocks into diagrams; marked leaves them
      // as code, which the page hands to mermaid one by one.
      const blocks = [];
      const renderer = new marked.Renderer();
      const code = renderer.code.bind(renderer);
      renderer.code = function (token) {
        if (token.lang === 'mermaid') {
          blocks.push(token.text);
          return `<div class="diagram" data-i="${blocks.length - 1}"></div>`;
        }
        return code(token);
      };
      const html = marked.parse(md, { renderer, gfm: true });
      const results = await page.evaluate(async (html, blocks, n) => {
        document.getElementById('body').innerHTML = html;
        const out = [];
        for (let i = 0; i < blocks.length; i++) {
          const host = document.querySelector(`.diagram[data-i="${i}"]`);
          const r = { i, type: blocks[i].trim().split(/\s/)[0] };
          try {
            await window.mermaid.parse(blocks[i]);
            const { svg } = await window.mermaid.render(`d${n}_${i}`, blocks[i]);
            host.innerHTML = svg;
            const el = host.querySelector('svg');
            const natural = el.viewBox && el.viewBox.baseVal ? el.viewBox.baseVal.width : 0;
            const drawn = el.getBoundingClientRect().width;
            r.natural = natural;
            r.drawn = drawn;
            r.scale = natural > 0 ? Math.min(1, drawn / natural) : 1;
            if (/Syntax error|Parse error|Edge limit exceeded|Maximum text size/i.test(host.textContent)) {
              r.error = host.textContent.slice(0, 200);
            }
          } catch (e) {
            r.error = String((e && e.message) || e).slice(0, 300);
          }
          out.push(r);
        }
        return out;
      }, html, blocks, n);
      // RENDER_SCREENSHOTS=DIR keeps a picture of each comment, to look at.
      if (process.env.RENDER_SCREENSHOTS && kind === 'comment') {
        await page.screenshot({ path: path.join(process.env.RENDER_SCREENSHOTS, path.basename(file) + '.png'), fullPage: true });
      }
      const scales = [];
      for (const r of results) {
        if (r.error) {
          failures.push(`${file}: mermaid block ${r.i + 1} (${r.type}) failed: ${r.error}`);
          continue;
        }
        scales.push(`${r.type} ${r.scale.toFixed(2)}`);
        if (r.scale < MIN_SCALE) {
          failures.push(`${file}: mermaid block ${r.i + 1} (${r.type}) drawn at ${r.scale.toFixed(2)} of its size (${Math.round(r.natural)} px wide in ${WIDTH} px)`);
        }
      }
      console.log(`${file}: ${kind}, ${chars} characters, ${blocks.length} diagrams${scales.length ? ' (scale ' + scales.join(', ') + ')' : ''}`);
    }
  } finally {
    await browser.close();
  }
  if (failures.length > 0) {
    for (const f of failures) console.error('FAIL ' + f);
    process.exit(1);
  }
  console.log(`${files.length} passed, 0 failed`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
