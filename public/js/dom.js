// Tiny DOM helpers. Everything from the API goes in as text, never as HTML.

/** `el("p", { class: "hint" }, "text", child)`: attributes are set as given; `hidden: true` adds the flag. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** `document.getElementById` that fails loudly, so a renamed id breaks at load rather than silently. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`The page has no #${id}`);
  return node;
}

/** Sets a text and shows the node, or hides it when the text is empty. */
export function showText(node, text) {
  node.textContent = text ?? "";
  node.hidden = !text;
}

/** Only http(s) and same-origin URLs may become links or image sources. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}
