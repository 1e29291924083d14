// A plain reader of the OpenAPI document: every operation with its parameters and answers.
import { el } from "./common.js";

function resolve(document, schema) {
  if (schema && schema.$ref) return document.components.schemas[schema.$ref.split("/").pop()];
  return schema || {};
}

function typeOf(document, schema) {
  const s = resolve(document, schema);
  if (schema && schema.$ref) return schema.$ref.split("/").pop();
  if (s.anyOf) return s.anyOf.map((x) => typeOf(document, x)).join(" | ");
  if (s.type === "array") return `${typeOf(document, s.items)}[]`;
  if (s.enum) return s.enum.join(" | ");
  return s.type || "any";
}

function operation(document, path, method, op) {
  const params = (op.parameters || []).map((p) => el("li", {},
    el("code", {}, p.name), ` (${p.in}${p.required ? ", required" : ""}): ${typeOf(document, p.schema)}`,
    p.description ? ` — ${p.description}` : ""));
  const body = op.requestBody && op.requestBody.content["application/json"];
  const fields = body ? Object.entries(resolve(document, body.schema).properties || {}).map(([name, s]) =>
    el("li", {}, el("code", {}, name), `: ${typeOf(document, s)}`, s.description ? ` — ${s.description}` : "")) : [];
  const answers = Object.entries(op.responses || {}).map(([status, r]) => el("li", {}, el("code", {}, status), ` ${r.description || ""}`));
  return el("details", { class: "op" },
    el("summary", {}, el("span", { class: `method method-${method}` }, method.toUpperCase()), " ", el("code", {}, path), " ", el("span", { class: "muted" }, op.summary || "")),
    op.description ? el("p", {}, op.description) : null,
    params.length ? el("div", {}, el("h3", {}, "Parameters"), el("ul", {}, ...params)) : null,
    fields.length ? el("div", {}, el("h3", {}, "Body (JSON)"), el("ul", {}, ...fields)) : null,
    el("h3", {}, "Responses"), el("ul", {}, ...answers));
}

const document_ = await (await fetch("/api/v1/openapi.json")).json();
const root = window.document.getElementById("operations");
root.replaceChildren();
root.removeAttribute("aria-busy");
for (const [path, methods] of Object.entries(document_.paths)) {
  for (const [method, op] of Object.entries(methods)) root.append(operation(document_, path, method, op));
}
