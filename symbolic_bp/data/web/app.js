// The page of `symbolic-bp serve`: the fields go to /api/check, a document to
// /api/extract; the server's HTML fragments (the notebook's rendering, math as
// MathML) are shown as they come.  User text is only ever set as textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const FIELDS = ["shapes", "cost", "wrt", "claim"];

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { /* not JSON: said below */ }
  if (!response.ok || data === null) {
    throw new Error((data && data.error) || `the server answered ${response.status}`);
  }
  return data;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function showError(target, message) {
  target.replaceChildren(element("p", message, "error"));
}

// a result without its HTML (the renderer missing): the JSON, as text
function plainResult(data) {
  return element("pre", JSON.stringify(data, null, 2), "json");
}

async function busy(button, status, work) {
  button.disabled = true;
  status.textContent = "checking…";
  const start = performance.now();
  try {
    await work();
    status.textContent = `${((performance.now() - start) / 1000).toFixed(1)} s`;
  } catch (e) {
    status.textContent = "";
    throw e;
  } finally {
    button.disabled = false;
  }
}

async function checkClaim(event) {
  event.preventDefault();
  const body = Object.fromEntries(FIELDS.map((name) => [name, $(name).value]));
  const target = $("result");
  target.replaceChildren();
  try {
    await busy($("check"), $("claim-status"), async () => {
      const data = await post("/api/check?html=1", body);
      target.dataset.verdict = data.verdict;
      if (data.html) target.innerHTML = data.html;     // the server's fragment (user text escaped there)
      else target.replaceChildren(plainResult(data));
    });
  } catch (e) {
    showError(target, e.message);
  }
}

function listSkipped(skipped) {
  const box = element("div", undefined, "skipped");
  box.append(element("h3", `not translated (${skipped.length})`));
  const list = element("ul");
  for (const item of skipped) {
    const li = element("li");
    li.append(element("span", `line ${item.line}: `, "where"), element("span", item.reason, "reason"));
    li.append(element("code", item.latex, "latex"));
    list.append(li);
  }
  box.append(list);
  return box;
}

function listClaims(claims) {
  const list = element("ul", undefined, "claims");
  for (const item of claims) {
    const li = element("li");
    li.append(element("span", item.result.verdict, `verdict ${item.result.verdict}`),
              element("span", ` line ${item.line}: `, "where"),
              element("code", `dC/d${item.wrt} = ${item.claim}`));
    list.append(li);
  }
  return list;
}

async function checkDocument(event) {
  event.preventDefault();
  const target = $("document-result");
  target.replaceChildren();
  try {
    await busy($("check-document"), $("document-status"), async () => {
      const data = await post("/api/extract?html=1", {text: $("document").value, format: $("format").value});
      const parts = [];
      if (!data.claims.length) {
        parts.push(element("p", "no claim found (a \\boxed{…} gradient, or C = … \\implies dC/dX = …)", "none"));
      }
      if (data.html) {
        const table = element("div", undefined, "table");
        table.innerHTML = data.html;                 // the server's fragment: a row per claim
        parts.push(table);
      } else if (data.claims.length) {
        parts.push(listClaims(data.claims));
      }
      target.replaceChildren(...parts);
      if (data.skipped.length) target.append(listSkipped(data.skipped));
    });
  } catch (e) {
    showError(target, e.message);
  }
}

async function loadExamples() {
  const select = $("examples");
  let examples = [];
  try {
    const response = await fetch("/api/examples");
    examples = (await response.json()).examples || [];
  } catch (e) {
    select.disabled = true;
    return;
  }
  const groups = new Map();
  examples.forEach((example, index) => {
    if (!groups.has(example.title)) {
      const group = element("optgroup");
      group.label = example.title;
      groups.set(example.title, group);
      select.append(group);
    }
    const option = element("option", `${example.name}: dC/d${example.wrt} = ${example.claim}` +
                                     (example.expect !== "verified" ? ` (${example.expect})` : ""));
    option.value = String(index);
    groups.get(example.title).append(option);
  });
  select.addEventListener("change", () => {
    const example = examples[Number(select.value)];
    if (!select.value || !example) return;
    for (const name of FIELDS) $(name).value = example[name];
    echoWrt();
    $("result").replaceChildren();
    $("claim-status").textContent = "";
  });
}

function echoWrt() {
  $("wrt-echo").textContent = $("wrt").value.trim() || "X";
}

document.addEventListener("DOMContentLoaded", () => {
  $("claim-form").addEventListener("submit", checkClaim);
  $("document-form").addEventListener("submit", checkDocument);
  $("wrt").addEventListener("input", echoWrt);
  echoWrt();
  loadExamples();
});
