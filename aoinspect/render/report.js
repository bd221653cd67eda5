// aoinspect HTML report: draws the JSON document embedded in #aoinspect-data.
// Inlined by render/html.py. Names in the document are untrusted: they reach the page only
// through textContent and canvas text, never as markup.
(function () {
  "use strict";

  var doc = JSON.parse(document.getElementById("aoinspect-data").textContent);
  var ROW = 18;
  // Hues for distributions, heaviest first; boxes get lighter with depth so that neighbours part.
  var HUES = [212, 28, 118, 354, 178, 46, 292, 330, 18, 160, 88, 262, 196, 62, 312];
  // A snapshot records module names only: where each came from is not known, not "local".
  var STDLIB = "(stdlib)", LOCAL = "(local)", UNKNOWN = "\u2014";

  function $(id) { return document.getElementById(id); }
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }
  function num(value) { return typeof value === "number" && isFinite(value) ? value : null; }
  function ms(value) { return num(value) === null ? "-" : value.toFixed(2); }
  function distributionOf(load) {
    if (load.namesOnly) return UNKNOWN;
    if (load.stdlib) return STDLIB;
    return load.distribution ? String(load.distribution) : LOCAL;
  }

  // --- trace: where each load began, in words ----------------------------------------------------
  var isTrace = doc.command === "trace";
  var PROGRAM = "(the program)", NO_LINE = "(the interpreter itself)", DIRECT = "(direct import)";
  // Paths below the program's working directory are shown relative to it, as the text view does.
  function shownPath(file) {
    var cwd = typeof doc.cwd === "string" && doc.cwd ? doc.cwd.replace(/\/+$/, "") + "/" : null;
    file = String(file);
    return cwd && file.indexOf(cwd) === 0 ? file.slice(cwd.length) : file;
  }
  function isFrame(frame) { return frame !== null && typeof frame === "object" && frame.file !== undefined; }
  function placeOf(frame) {
    if (!isFrame(frame)) return NO_LINE;
    return shownPath(frame.file) + (frame.line ? ":" + frame.line : "");
  }
  function codeOf(frame) {
    if (!isFrame(frame)) return "(no line of Python code)";
    return frame.source ? String(frame.source) : "(no source: in " + (frame.function || "?") + ")";
  }
  // How an attribute access became this import: the introspection call, then the lazy hop.
  function hopOf(load) {
    var parts = [];
    if (load.via) parts.push(String(load.via));
    if (load.hop && typeof load.hop === "object") {
      parts.push(load.hop.text ? String(load.hop.text)
        : String(load.hop.function) + (load.hop.attribute ? "('" + load.hop.attribute + "')" : "()"));
    }
    return parts.length ? "via " + parts.join(" \u2192 ") : DIRECT;
  }
  function importerOf(load) {
    if (load.namesOnly) return UNKNOWN;
    if (load.parent) return String(load.parent);
    return isTrace ? PROGRAM : "(access)";
  }

  // --- the trees a document holds: import PKG, then one per name -------------------------------
  function sectionsOf(document_) {
    var pkg = String(document_.package || "");
    var found = [];
    var imported = document_["import"];
    if (imported && Array.isArray(imported.materialized)) {
      found.push({key: null, label: "import " + pkg, loads: imported.materialized, total: imported.total_ms});
    } else if (Array.isArray(imported)) {  // snapshot: module names only
      found.push({key: null, label: "import " + pkg, loads: imported.map(function (m) { return {module: m, namesOnly: true}; })});
    }
    (Array.isArray(document_.results) ? document_.results : []).forEach(function (result) {
      if (result && Array.isArray(result.materialized)) {
        found.push({key: String(result.name), label: pkg + "." + result.name, loads: result.materialized,
                    total: result.total_ms, result: result});
      }
    });
    if (document_.names && !Array.isArray(document_.names) && typeof document_.names === "object") {
      Object.keys(document_.names).forEach(function (name) {  // snapshot
        var modules = document_.names[name];
        if (Array.isArray(modules)) {
          found.push({key: name, label: pkg + "." + name,
                      loads: modules.map(function (m) { return {module: m, namesOnly: true}; })});
        }
      });
    }
    if (Array.isArray(document_.materialized)) {
      found.push({key: "", label: String(document_.command || "run") + " " + pkg, loads: document_.materialized});
    }
    if (Array.isArray(document_.loads)) {  // trace: every module the program loaded, with its trigger
      var program = Array.isArray(document_.program) ? document_.program.join(" ") : "the program";
      found.push({key: "", label: "trace " + program, loads: document_.loads, total: document_.total_ms});
    }
    return byCost(found);
  }

  // The tree picker's order: import PKG first (a document has one such tree), then the heaviest:
  // by cumulative time when every tree has one, else by module count; ties keep document order.
  function byCost(found) {
    var first = found.filter(function (section) { return section.key === null; });
    var rest = found.filter(function (section) { return section.key !== null; });
    var timed = rest.every(function (section) { return num(section.total) !== null; });
    var position = new Map();
    rest.forEach(function (section, index) { position.set(section, index); });
    rest.sort(function (a, b) {
      var cost = timed ? b.total - a.total : 0;
      return cost || b.loads.length - a.loads.length || position.get(a) - position.get(b);
    });
    return first.concat(rest);
  }

  // --- one tree per section, laid out in fractions of the root's width ------------------------
  function buildTree(section) {
    var timed = section.loads.some(function (load) { return num(load.cumulative_ms) !== null; });
    var root = {name: section.label, load: null, children: [], depth: -1, parent: null, value: 0, self: 0};
    var nodes = [], byName = new Map();
    section.loads.forEach(function (load, index) {
      if (!load || load.module === undefined) return;
      var node = {name: String(load.module), load: load, children: [], index: index,
                  self: num(load.self_ms) || 0, value: timed ? Math.max(num(load.cumulative_ms) || 0, 0) : 1};
      if (!byName.has(node.name)) byName.set(node.name, node);
      nodes.push(node);
    });
    nodes.forEach(function (node) {
      var parent = node.load.parent === null || node.load.parent === undefined ? null
        : byName.get(String(node.load.parent));
      // Imports begin after their importer: anything else (a hand-made document) hangs at the top.
      if (!parent || parent.index >= node.index) parent = root;
      node.parent = parent;
      parent.children.push(node);
    });
    if (!timed) {
      for (var i = nodes.length - 1; i >= 0; i--) {
        nodes[i].value = 1 + nodes[i].children.reduce(function (sum, child) { return sum + child.value; }, 0);
      }
    }
    root.value = root.children.reduce(function (sum, child) { return sum + child.value; }, 0);
    var maxDepth = 0;
    root.x0 = 0; root.x1 = 1;
    var stack = [root];
    while (stack.length) {
      var parentNode = stack.pop();
      var children = parentNode.children;
      var sum = children.reduce(function (total, child) { return total + child.value; }, 0);
      var room = Math.max(parentNode.value, sum);
      var scale = room > 0 ? (parentNode.x1 - parentNode.x0) / room : 0;
      var x = parentNode.x0;
      children.forEach(function (child) {
        child.depth = parentNode.depth + 1;
        maxDepth = Math.max(maxDepth, child.depth);
        child.x0 = x;
        x += child.value * scale;
        child.x1 = x;
        stack.push(child);
      });
    }
    return {root: root, nodes: nodes, byName: byName, timed: timed, maxDepth: maxDepth, total: section.total};
  }

  // --- colours: one per distribution, heaviest first -------------------------------------------
  var colours = new Map();
  function assignColours(sections) {
    var weight = new Map();
    sections.forEach(function (section) {
      section.loads.forEach(function (load) {
        var key = distributionOf(load);
        weight.set(key, (weight.get(key) || 0) + (num(load.self_ms) || 0) + 1e-6);
      });
    });
    var keys = Array.from(weight.keys()).filter(function (key) { return key !== STDLIB; });
    keys.sort(function (a, b) { return weight.get(b) - weight.get(a) || (a < b ? -1 : 1); });
    keys.forEach(function (key, index) {
      colours.set(key, {hue: index < HUES.length ? HUES[index] : (index * 47) % 360, saturation: 58});
    });
    colours.set(STDLIB, {hue: 210, saturation: 8});
  }
  function colourOf(key, depth) {
    var colour = colours.get(key) || {hue: 0, saturation: 0};
    return "hsl(" + colour.hue + "," + colour.saturation + "%," + Math.min(58 + 5 * (depth % 5), 80) + "%)";
  }

  // --- state -----------------------------------------------------------------------------------
  var sections = sectionsOf(doc);
  assignColours(sections);
  var canvas = $("chart"), context = canvas.getContext("2d");
  var tree = null, focus = null, query = "", matches = new Set(), drawn = [], sortKey = "cumulative",
      sortAscending = false, rowsShown = 300;

  function isAncestorOrSelf(node, of) {
    for (var walk = of; walk; walk = walk.parent) if (walk === node) return true;
    return false;
  }

  // --- the icicle chart: draws only boxes at least a third of a pixel wide ----------------------
  function draw() {
    var width = canvas.clientWidth || 800;
    var rows = tree.maxDepth + 2;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(rows * ROW * ratio);
    canvas.style.height = rows * ROW + "px";
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, rows * ROW);
    context.font = "11px ui-monospace, Menlo, Consolas, monospace";
    context.textBaseline = "middle";
    drawn = [];
    var span = focus.x1 - focus.x0, scale = span > 0 ? width / span : 0;
    for (var ancestor = focus; ancestor; ancestor = ancestor.parent) box(ancestor, 0, width);
    var stack = focus.children.slice();
    while (stack.length) {
      var node = stack.pop();
      var left = (node.x0 - focus.x0) * scale, boxWidth = (node.x1 - node.x0) * scale;
      if (boxWidth < 0.33) continue;
      box(node, left, boxWidth);
      for (var i = 0; i < node.children.length; i++) stack.push(node.children[i]);
    }
  }

  function box(node, left, width) {
    var top = (node.depth + 1) * ROW;
    var hit = matches.has(node);
    context.globalAlpha = query && !hit && node.load ? 0.35 : 1;
    context.fillStyle = node.load ? (hit ? "#d6249f" : colourOf(distributionOf(node.load), node.depth)) : "#4a5560";
    context.fillRect(left, top, Math.max(width - 0.5, 0.33), ROW - 1);
    context.globalAlpha = 1;
    if (width > 28) {
      var fits = Math.floor((width - 6) / 6.7);
      var label = node.name.length <= fits ? node.name : node.name.slice(0, Math.max(fits - 1, 1)) + "\u2026";
      context.fillStyle = node.load && !hit ? "#111" : "#fff";
      context.fillText(label, left + 3, top + ROW / 2);
    }
    drawn.push({node: node, left: left, top: top, width: width});
  }

  function nodeAt(event) {
    var rect = canvas.getBoundingClientRect();
    var x = event.clientX - rect.left, y = event.clientY - rect.top;
    for (var i = drawn.length - 1; i >= 0; i--) {
      var item = drawn[i];
      if (y >= item.top && y < item.top + ROW && x >= item.left && x < item.left + Math.max(item.width, 1)) {
        return item.node;
      }
    }
    return null;
  }

  function zoom(node) {
    focus = node || tree.root;
    var trail = [];
    for (var walk = focus; walk; walk = walk.parent) trail.unshift(walk.name);
    $("breadcrumb").textContent = trail.join(" \u203a ");
    $("zoom-out").disabled = !focus.parent;
    draw();
  }

  // --- hover details ---------------------------------------------------------------------------
  function showTip(node, event) {
    var tip = $("tip");
    tip.textContent = "";
    tip.appendChild(el("div", node.name, "title"));
    var lines = [];
    if (!node.load) {
      lines.push(tree.timed ? "total " + ms(tree.total) + " ms importing" : node.value + " modules");
    } else {
      var load = node.load;
      if (tree.timed) lines.push("self " + ms(load.self_ms) + " ms, cumulative " + ms(load.cumulative_ms) + " ms");
      else lines.push(node.value + " module(s)");
      if ("parent" in load) {
        lines.push("imported by " + (load.parent !== null ? load.parent : isTrace ? PROGRAM : "(the access itself)"));
      }
      if (isTrace) lines.push(hopOf(load));
      lines.push("distribution " + distributionOf(load));
      if (num(load.depth) !== null) lines.push("depth " + load.depth);
    }
    lines.forEach(function (line) { tip.appendChild(el("div", line)); });
    var trigger = node.load && node.load.trigger;
    if (trigger && typeof trigger === "object") {
      var where = (trigger.file || "?") + (trigger.line ? ":" + trigger.line : "") +
        (trigger.function ? " in " + trigger.function : "");
      tip.appendChild(el("div", "triggered at " + where));
      if (trigger.source) tip.appendChild(el("pre", trigger.source));
    }
    tip.hidden = false;
    var x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    var y = event.clientY + 16;
    if (y + tip.offsetHeight > window.innerHeight) y = event.clientY - tip.offsetHeight - 8;
    tip.style.left = Math.max(x, 4) + "px";
    tip.style.top = Math.max(y, 4) + "px";
  }

  canvas.addEventListener("mousemove", function (event) {
    var node = nodeAt(event);
    if (node) showTip(node, event); else $("tip").hidden = true;
  });
  canvas.addEventListener("mouseleave", function () { $("tip").hidden = true; });
  canvas.addEventListener("click", function (event) {
    var node = nodeAt(event);
    if (!node) return;
    // Clicking the box in focus, or one of its ancestors, zooms back out.
    zoom(node === focus ? focus.parent || tree.root : node);
  });
  $("zoom-out").addEventListener("click", function () { zoom(focus.parent); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && focus && focus.parent) zoom(focus.parent);
  });
  window.addEventListener("resize", function () { if (tree) draw(); });

  // --- search ----------------------------------------------------------------------------------
  function search() {
    query = $("search").value.trim().toLowerCase();
    matches = new Set();
    var selfMs = 0;
    if (query) {
      tree.nodes.forEach(function (node) {
        if (node.name.toLowerCase().indexOf(query) >= 0) { matches.add(node); selfMs += node.self; }
      });
    }
    var status = query
      ? matches.size + " matching module" + (matches.size === 1 ? "" : "s") + (tree.timed ? ", " + ms(selfMs) + " ms self" : "")
      : "";
    if (query) {
      // The search covers the tree shown; say where else the text is, so that "0" is not the answer.
      var current = Number($("section").value), elsewhere = [];
      sections.forEach(function (section, index) {
        if (index === current) return;
        var count = section.loads.filter(function (load) {
          return load && String(load.module).toLowerCase().indexOf(query) >= 0;
        }).length;
        if (count) elsewhere.push(section.label + " (" + count + ")");
      });
      if (elsewhere.length) {
        status += "; also in " + elsewhere.slice(0, 3).join(", ") +
          (elsewhere.length > 3 ? " and " + (elsewhere.length - 3) + " more" : "");
      }
    }
    $("search-status").textContent = status;
    draw();
    fillTable();
  }
  $("search").addEventListener("input", search);

  // --- the module table ------------------------------------------------------------------------
  var COLUMNS = [
    {key: "name", label: "Module", value: function (n) { return n.name; }},
    {key: "self", label: "Self ms", num: true, value: function (n) { return num(n.load.self_ms); }},
    {key: "cumulative", label: "Cumulative ms", num: true, value: function (n) { return num(n.load.cumulative_ms); }},
    {key: "depth", label: "Depth", num: true, value: function (n) { return num(n.load.depth); }},
    {key: "parent", label: "Imported by", value: function (n) { return importerOf(n.load); }},
    {key: "distribution", label: "Distribution", value: function (n) { return distributionOf(n.load); }}
  ];
  // A trace says, on every row, the line that triggered the load and the hop that led to it.
  if (isTrace) {
    COLUMNS.splice(5, 0,
      {key: "trigger", label: "Triggered at", value: function (n) { return placeOf(n.load.trigger); }, className: "place"},
      {key: "code", label: "Code", value: function (n) { return codeOf(n.load.trigger); }, className: "code"},
      {key: "hop", label: "Hop", value: function (n) { return hopOf(n.load); }, className: "code"});
    if (Array.isArray(doc.loads) && doc.loads.some(function (load) { return load && isFrame(load.own); })) {
      COLUMNS.splice(5, 0, {key: "own", label: "Program's line", className: "place", value: function (n) {
        return isFrame(n.load.own) ? placeOf(n.load.own) : "(none of its own)";
      }});
    }
  }

  function buildHead() {
    var row = $("modules").tHead.rows[0];
    COLUMNS.forEach(function (column) {
      var cell = el("th", column.label, column.num ? "num" : "");
      cell.dataset.key = column.key;
      cell.addEventListener("click", function () {
        sortAscending = sortKey === column.key ? !sortAscending : !column.num;
        sortKey = column.key;
        fillTable();
      });
      row.appendChild(cell);
    });
  }

  function fillTable() {
    var column = COLUMNS.filter(function (c) { return c.key === sortKey; })[0];
    var ordered = tree.nodes.slice().sort(function (a, b) {
      var x = column.value(a), y = column.value(b);
      var order = x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
      if (!sortAscending && x !== null && y !== null) order = -order;
      return order || a.index - b.index;
    });
    Array.prototype.forEach.call($("modules").tHead.rows[0].cells, function (cell) {
      if (cell.dataset.key === sortKey) cell.setAttribute("aria-sort", sortAscending ? "ascending" : "descending");
      else cell.removeAttribute("aria-sort");
    });
    var body = document.createElement("tbody");
    ordered.slice(0, rowsShown).forEach(function (node) {
      var row = document.createElement("tr");
      if (matches.has(node)) row.className = "match";
      row.dataset.module = node.name;
      COLUMNS.forEach(function (c) {
        var value = c.value(node);
        row.appendChild(el("td", c.num && c.key !== "depth" ? ms(value) : value === null ? "-" : value,
                           c.key === "name" ? "name" : c.num ? "num" : c.className || ""));
      });
      row.addEventListener("click", function () { zoom(node); canvas.scrollIntoView({block: "nearest"}); });
      body.appendChild(row);
    });
    var table = $("modules");
    table.replaceChild(body, table.tBodies[0]);
    var more = $("more");
    more.hidden = ordered.length <= rowsShown;
    more.textContent = "Show all " + ordered.length + " modules";
  }
  $("more").addEventListener("click", function () { rowsShown = Infinity; fillTable(); });

  // --- sections, summary, findings -------------------------------------------------------------
  function selectSection(index) {
    $("section").value = String(index);
    tree = buildTree(sections[index]);
    legend(sections[index]);
    rowsShown = 300;
    var timed = tree.timed;
    if (!timed && (sortKey === "cumulative" || sortKey === "self")) { sortKey = "name"; sortAscending = true; }
    zoom(tree.root);
    search();
  }

  function sectionIndexFor(name) {
    for (var i = 0; i < sections.length; i++) if (sections[i].key === (name === undefined ? null : name)) return i;
    return -1;
  }

  function summary() {
    var box = $("summary");
    function fact(label, value) {
      if (value === null || value === undefined || value === "") return;  // no empty fields
      var item = el("span", label + " ");
      item.appendChild(el("b", value));
      item.dataset.fact = label;
      box.appendChild(item);
    }
    fact("command", doc.command);
    fact("package", doc["package"]);
    if (isTrace) {
      fact("program", Array.isArray(doc.program) ? doc.program.join(" ") : doc.program);
      fact("python", doc.python);
      if (num(doc.modules) !== null) {
        // The JSON's count: each module loaded once, and those put in sys.modules without an import.
        var inserted = Array.isArray(doc.inserted) ? doc.inserted.length : 0;
        fact("modules", doc.modules + (inserted ? " (" + inserted + " inserted without an import)" : ""));
      }
      if (num(doc.failed)) fact("failed imports", doc.failed);
      if (num(doc.total_ms) !== null) fact("import time", ms(doc.total_ms) + " ms");
      fact("the program", doc.ending);
    }
    if (doc["import"] && doc["import"].python) fact("python", doc["import"].python);
    if (doc.isolation && doc.isolation.mode) fact("isolation", doc.isolation.mode);
    fact("schema", doc.schema);
    fact("exit code", doc.exit_code);
    var verdict = $("verdict");
    verdict.textContent = doc.ok ? "ok" : "failed";
    verdict.className = "badge " + (doc.ok ? "ok" : "bad");
    if (doc.error && typeof doc.error === "object") {
      var error = el("div", (doc.error.kind || "error") + ": " + (doc.error.message || ""), "error-box bad");
      box.parentNode.insertBefore(error, box.nextSibling);
    }
  }

  function findings() {
    var list = Array.isArray(doc.findings) ? doc.findings : [];
    if (!list.length) return;
    $("findings-section").hidden = false;
    list.forEach(function (finding, index) {
      var item = el("li");
      item.id = "finding-" + index;
      item.appendChild(el("span", finding.severity, "badge " + String(finding.severity)));
      item.appendChild(el("code", " " + finding.rule + " "));
      if (finding.name) item.appendChild(el("b", finding.name + ": "));
      item.appendChild(el("span", finding.message));
      var target = sectionIndexFor(finding.name === null || finding.name === undefined ? null : String(finding.name));
      if (target >= 0) {
        var link = el("a", "show in chart");
        link.href = "#chart";
        link.addEventListener("click", function (event) {
          event.preventDefault();
          selectSection(target);
          // Zoom on the longest module name the message mentions, if any.
          var message = String(finding.message || ""), best = null;
          tree.nodes.forEach(function (node) {
            if (message.indexOf(node.name) >= 0 && (!best || node.name.length > best.name.length)) best = node;
          });
          if (best) zoom(best);
          canvas.scrollIntoView({block: "center"});
        });
        item.appendChild(link);
      }
      $("findings").appendChild(item);
    });
  }

  // --- trace: the program's lines that cost the most import time, at the top ------------------
  // Each import no other import ran around counts for the program's own line that began it (the
  // line the trigger was reached from, when the trace has one), else for its trigger line.
  var LINES_SHOWN = 15;
  function programLines() {
    var loads = Array.isArray(doc.loads) ? doc.loads.filter(function (load) { return load && load.module !== undefined; }) : [];
    var useOwn = loads.some(function (load) { return isFrame(load.own); });
    var children = new Map();
    loads.forEach(function (load) {
      if (load.parent_index === null || load.parent_index === undefined) return;
      if (!children.has(load.parent_index)) children.set(load.parent_index, []);
      children.get(load.parent_index).push(load);
    });
    function modulesUnder(load) {
      var count = 0, stack = [load];
      while (stack.length) {
        var current = stack.pop();
        if (!current.failed) count += 1;
        (children.get(current.index) || []).forEach(function (child) { stack.push(child); });
      }
      return count;
    }
    var groups = new Map(), order = [];
    loads.forEach(function (load) {
      if (load.parent_index !== null && load.parent_index !== undefined) return;
      var frame = useOwn ? load.own : load.trigger;
      var key = isFrame(frame) ? frame.file + ":" + frame.line : "";
      if (!groups.has(key)) {
        groups.set(key, {frame: frame, owned: !useOwn || isFrame(frame), total: 0, modules: 0, loads: []});
        order.push(key);
      }
      var group = groups.get(key);
      group.total += num(load.cumulative_ms) || 0;
      group.modules += modulesUnder(load);
      group.loads.push(load);
    });
    var rows = order.map(function (key, position) { var g = groups.get(key); g.position = position; return g; });
    rows.sort(function (a, b) { return b.total - a.total || a.position - b.position; });
    return rows;
  }

  function linesTable() {
    if (!isTrace || !Array.isArray(doc.loads)) return;
    var rows = programLines();
    $("lines-section").hidden = false;
    var head = $("lines").tHead.rows[0];
    [["Import ms", "num"], ["Modules", "num"], ["Line", ""], ["Code", ""], ["Imports it began", ""]]
      .forEach(function (column) { head.appendChild(el("th", column[0], column[1])); });
    var body = $("lines").tBodies[0];
    if (!rows.length) {
      var empty = el("tr");
      var cell = el("td", "The program loaded no modules beyond the interpreter's own.");
      cell.colSpan = 5;
      empty.appendChild(cell);
      body.appendChild(empty);
      return;
    }
    rows.slice(0, LINES_SHOWN).forEach(function (group) {
      var row = el("tr");
      var place = group.owned ? placeOf(group.frame)
        : "(no line of the program's own) " + placeOf(group.frame);
      row.appendChild(el("td", ms(group.total), "num"));
      row.appendChild(el("td", group.modules, "num"));
      row.appendChild(el("td", place, "place"));
      row.appendChild(el("td", codeOf(group.frame), "code"));
      var began = group.loads.slice(0, 4).map(function (load) {
        var how = hopOf(load);
        // Where the library asked, when that is not the program's line itself (as the text view says).
        var from = group.owned && isFrame(load.trigger) && placeOf(load.trigger) !== place
          ? " (from " + placeOf(load.trigger) + ")" : "";
        return String(load.module) + (load.failed ? " (failed)" : "") + (how === DIRECT ? "" : " " + how) + from;
      }).join(", ") + (group.loads.length > 4 ? ", +" + (group.loads.length - 4) + " more" : "");
      row.appendChild(el("td", began, "code"));
      row.dataset.line = place;
      row.addEventListener("click", function () {
        var node = tree && tree.byName.get(String(group.loads[0].module));
        if (node) { zoom(node); canvas.scrollIntoView({block: "nearest"}); }
      });
      body.appendChild(row);
    });
    if (rows.length > LINES_SHOWN) {
      $("lines-more").hidden = false;
      $("lines-more").textContent = "\u2026 and " + (rows.length - LINES_SHOWN) + " more lines (the module table below has every load)";
    }
  }

  // The distributions of the tree shown, heaviest first (colours stay the same across trees).
  function legend(section) {
    var box = $("legend");
    box.textContent = "";
    var present = new Set(section.loads.map(distributionOf));
    colours.forEach(function (_colour, key) {
      if (!present.has(key)) return;
      var item = el("span");
      var swatch = el("span", null, "swatch");
      swatch.style.background = colourOf(key, 0);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(key));
      item.dataset.distribution = key;
      box.appendChild(item);
    });
  }

  summary();
  linesTable();
  findings();
  buildHead();
  var picker = $("section");
  sections.forEach(function (section, index) {
    var count = section.loads.length;
    // A trace's tree holds its imports, failed ones too: the summary says how many modules.
    var text = section.label + " \u2014 " + count + (isTrace ? " import" : " module") + (count === 1 ? "" : "s");
    if (num(section.total) !== null) text += ", " + ms(section.total) + " ms";
    var option = el("option", text);
    option.value = String(index);
    picker.appendChild(option);
  });
  picker.addEventListener("change", function () { selectSection(Number(picker.value)); });
  if (sections.length) {
    // check and list are about the package: show its import, the first tree. Other reports are
    // about their names (resolve, snapshot): show the first that loaded something.
    var first = 0;
    if (doc.command !== "check" && doc.command !== "list") {
      for (var i = 0; i < sections.length; i++) if (sections[i].key !== null && sections[i].loads.length) { first = i; break; }
    }
    selectSection(first);
  } else {
    $("chart-section").hidden = true;
    $("table-section").hidden = true;
  }

  // For tests and the curious: what the page shows, as data.
  window.aoinspectReport = {
    document: doc,
    highlighted: function () { return Array.from(matches).map(function (node) { return node.name; }).sort(); },
    searchStatus: function () { return $("search-status").textContent; },
    focus: function () { return focus ? focus.name : null; },
    sections: function () { return sections.map(function (section) { return section.label; }); },
    programLines: function () {
      return programLines().map(function (group) {
        return {line: placeOf(group.frame), owned: group.owned, ms: group.total, modules: group.modules,
                loads: group.loads.map(function (load) { return load.module; })};
      });
    },
    shown: function () { return sections[Number($("section").value)].label; },
    legend: function () {
      return Array.prototype.map.call($("legend").children, function (item) { return item.dataset.distribution; });
    },
    select: selectSection,
    boxesDrawn: function () { return drawn.length; },
    boxOf: function (name) {  // a point inside the box of a module, in canvas pixels
      for (var i = 0; i < drawn.length; i++) {
        if (drawn[i].node.name === name) {
          return {x: drawn[i].left + Math.min(drawn[i].width, 40) / 2, y: drawn[i].top + ROW / 2};
        }
      }
      return null;
    }
  };
}());
