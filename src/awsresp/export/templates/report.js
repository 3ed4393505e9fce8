"use strict";
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var detail = document.getElementById("detail");
  var STATUS = { fail: "fail", unknown: "unknown", pass: "pass" };
  var RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0, "": -1 };

  // Every value is put on the page as text (textContent), never as markup.
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function value(tag, cls, text) {
    var node = el(tag, cls);
    node.appendChild(el("bdi", null, text));
    return node;
  }

  function controlBlock(ctrl, rows, covered) {
    var box = el("div", "control");
    var head = el("p");
    head.appendChild(el("span", "title", ctrl[1]));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("code", "id", ctrl[0]));
    box.appendChild(head);
    var dl = el("dl");
    function item(term, text) {
      if (!text) { return; }
      dl.appendChild(el("dt", null, term));
      dl.appendChild(el("dd", null, text));
    }
    item("severity", ctrl[2] + (ctrl[3] ? " (shows a safeguard)" : " (a risk check: cannot make a unit controlled)"));
    item("remediation", ctrl[4]);
    item("references", ctrl[5]);
    if (covered) { item("note", "failures of this control are covered by a passing account setting"); }
    box.appendChild(dl);
    var table = el("table", "list");
    var hr = el("tr");
    ["status", "resource", "region", "evidence"].forEach(function (h) { hr.appendChild(el("th", null, h)); });
    table.appendChild(el("thead")).appendChild(hr);
    var body = el("tbody");
    rows.forEach(function (f) {
      var res = data.resources[f[1]];
      var tr = el("tr");
      tr.appendChild(el("td", "st st-" + STATUS[f[2]], f[2]));
      var rc = value("td", null, res[2] || res[1]);
      if (res[2] && res[2] !== res[1]) { rc.appendChild(el("br")); rc.appendChild(value("code", null, res[1])); }
      if (res[4]) { rc.title = res[4]; }
      tr.appendChild(rc);
      tr.appendChild(el("td", null, res[3]));
      tr.appendChild(value("td", "ev mono", f[3]));
      body.appendChild(tr);
    });
    table.appendChild(body);
    box.appendChild(table);
    return box;
  }

  function show(i) {
    var cell = data.matrix[i];
    var via = data.via[String(i)];
    detail.classList.remove("empty");
    detail.textContent = "";
    detail.appendChild(value("h3", null, cell.d));
    if (cell.e) { detail.appendChild(value("p", "evidence", cell.e)); }
    if (via !== undefined) {
      var p = el("p");
      p.appendChild(document.createTextNode("No unit of its own on this layer: the account row's baseline decides it. "));
      var go = el("button", "link", "Show the account row's cell");
      go.type = "button";
      go.addEventListener("click", function () { select(via, true); });
      p.appendChild(go);
      detail.appendChild(p);
      return;
    }
    var entry = data.cells[String(i)];
    if (!entry) { return; }
    var groups = [], byControl = {};
    entry.f.forEach(function (n) {
      var f = data.findings[n];
      if (!(f[0] in byControl)) { byControl[f[0]] = []; groups.push(f[0]); }
      byControl[f[0]].push(f);
    });
    var covered = entry.cv || [];
    groups.forEach(function (c) {
      var ctrl = data.controls[c];
      detail.appendChild(controlBlock(ctrl, byControl[c], covered.indexOf(ctrl[0]) >= 0));
    });
    var note = entry.f.length < entry.n
      ? "Showing " + entry.f.length + " of the " + entry.n + " findings behind this cell (the worst first); findings.csv has every one."
      : entry.n + " finding(s) behind this cell.";
    detail.appendChild(el("p", "note", note));
  }

  var current = null;
  function select(i, scroll) {
    var btn = document.getElementById("c" + i);
    if (current) { current.classList.remove("active"); current.setAttribute("aria-pressed", "false"); }
    if (btn) { btn.classList.add("active"); btn.setAttribute("aria-pressed", "true"); current = btn; }
    show(i);
    if (scroll) { detail.scrollIntoView({ block: "nearest" }); }
  }

  var cells = Array.prototype.slice.call(document.querySelectorAll("button.cell"));
  cells.forEach(function (btn) {
    var i = Number(btn.getAttribute("data-i"));
    btn.addEventListener("click", function () {
      select(i, false);
      // Below the fold (a long matrix): bring the findings up.
      if (detail.getBoundingClientRect().top > window.innerHeight - 80) { detail.scrollIntoView({ block: "start" }); }
    });
    btn.addEventListener("focus", function () { select(i, false); });
    btn.addEventListener("keydown", function (ev) {
      var moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      var m = moves[ev.key];
      if (!m) { return; }
      var td = btn.parentNode, tr = td.parentNode;
      var col = Array.prototype.indexOf.call(tr.children, td);
      var target = null;
      if (m[0] === 0) {
        target = tr.children[col + m[1]];
      } else {
        var row = tr;
        do { row = m[0] > 0 ? row.nextElementSibling : row.previousElementSibling; }
        while (row && (row.classList.contains("hidden") || !row.querySelector("button.cell")));
        target = row ? row.children[col] : null;
      }
      var next = target ? target.querySelector("button.cell") : null;
      if (next) { ev.preventDefault(); next.focus(); }
    });
  });
  document.querySelectorAll("button.open-cell").forEach(function (b) {
    b.addEventListener("click", function () { select(Number(b.getAttribute("data-i")), true); });
  });

  // Filters: owner, worst severity, account. Cells that do not match are dimmed; rows of
  // other accounts and gap lines that do not match are hidden.
  var fOwner = document.getElementById("f-owner");
  var fSev = document.getElementById("f-sev");
  var fAccount = document.getElementById("f-account");
  function matches(i) {
    var c = data.matrix[i];
    if (fOwner && fOwner.value && c.o !== fOwner.value) { return false; }
    if (fSev && fSev.value && RANK[c.w] < RANK[fSev.value]) { return false; }
    return true;
  }
  function apply() {
    var acct = fAccount ? fAccount.value : "";
    cells.forEach(function (btn) {
      btn.classList.toggle("dim", !matches(Number(btn.getAttribute("data-i"))));
    });
    document.querySelectorAll("[data-account]").forEach(function (node) {
      node.classList.toggle("hidden", !!acct && node.getAttribute("data-account") !== acct);
    });
    document.querySelectorAll("tr[data-gap]").forEach(function (tr) {
      var i = Number(tr.getAttribute("data-gap"));
      var shown = matches(i) && (!acct || data.matrix[i].a === acct);
      tr.classList.toggle("hidden", !shown);
    });
  }
  [fOwner, fSev, fAccount].forEach(function (s) { if (s) { s.addEventListener("change", apply); } });
  document.getElementById("filters").classList.remove("hidden");
})();
