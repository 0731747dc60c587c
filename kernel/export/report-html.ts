/**
 * The report as a page of its own (report.html): the Markdown the report is written in, for the
 * subset it uses (headings, paragraphs, lists, tables, emphasis, images, links), escaped, with
 * a style of its own and no script. Images stay relative, so the page shows the charts beside it.
 */

export function reportHtml(markdown: string, title: string): string {
  const body: string[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length;) {
    const line = lines[i]!;
    if (!line.trim()) {
      i++;
      continue;
    }
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) {
      body.push(`<h${heading[1]!.length}>${inline(heading[2]!)}</h${heading[1]!.length}>`);
      i++;
      continue;
    }
    if (line.startsWith("|")) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.startsWith("|")) rows.push(cells(lines[i++]!));
      const [head, , ...rest] = rows;
      body.push(
        `<table><thead><tr>${(head ?? []).map((c) => `<th>${inline(c)}</th>`).join("")}</tr></thead>` +
          `<tbody>${rest.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`,
      );
      continue;
    }
    if (/^- /.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^- /.test(lines[i]!)) items.push(lines[i++]!.slice(2));
      body.push(`<ul>${items.map((t) => `<li>${inline(t)}</li>`).join("")}</ul>`);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i]!.trim() && !/^(#|\||- )/.test(lines[i]!)) para.push(lines[i++]!);
    body.push(`<p>${inline(para.join(" "))}</p>`);
  }
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'">`,
    `<title>${escape(title)}</title>`,
    "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}" +
      "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}th{background:#f6f8fa}" +
      "img{max-width:100%;border:1px solid #d0d7de;margin:.5rem 0}code{background:#f6f8fa;padding:0 .2rem}</style>",
    "</head><body>",
    ...body,
    "</body></html>",
    "",
  ].join("\n");
}

function cells(row: string): string[] {
  return row
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((c) => c.trim());
}

/** Inline Markdown (images, links, bold, emphasis, code) over escaped text. */
function inline(text: string): string {
  return escape(text)
    .replace(/!\[([^\]]{0,300})\]\(([^)\s]{1,500})\)/g, (_m, alt: string, src: string) => (safeUrl(src) ? `<img alt="${alt}" src="${src}">` : alt))
    .replace(/(?<!!)\[([^\]]{1,300})\]\(([^)\s]{1,500})\)/g, (_m, label: string, href: string) => (safeUrl(href) ? `<a href="${href}">${label}</a>` : label))
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[\s(])_([^_]+)_(?=[\s).,;:]|$)/g, "$1<em>$2</em>")
    .replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** relative paths and http(s) only: no javascript:, no data: */
function safeUrl(url: string): boolean {
  return /^(https?:\/\/|[\w./-]+$)/i.test(url) && !/^[a-z]+:/i.test(url.replace(/^https?:/i, ""));
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
