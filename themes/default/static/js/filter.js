/* jianbao: course filter for /courses/. No dependencies. Without this
   script the full table is shown and the (hidden) controls stay hidden.
   ?q=… and ?major=… preset the filter, so filtered views can be shared. */
(function () {
  "use strict";
  var form = document.getElementById("course-filter");
  var table = document.getElementById("course-table");
  if (!form || !table || !table.tBodies.length || !window.URLSearchParams) return;
  var q = form.elements.q, major = form.elements.major;
  var count = document.getElementById("course-count");
  var empty = document.getElementById("course-empty");
  var rows = table.tBodies[0].rows, total = rows.length;

  function norm(s) {
    return (s || "").toLowerCase().replace(/\s+/g, "")
      .replace(/（/g, "(").replace(/）/g, ")");
  }

  function apply(share) {
    var needle = norm(q.value), m = major.value, n = 0;
    for (var i = 0; i < total; i++) {
      var r = rows[i];
      var ok = (!m || r.getAttribute("data-major") === m) &&
        (!needle || norm(r.getAttribute("data-text")).indexOf(needle) >= 0);
      r.hidden = !ok;
      if (ok) n++;
    }
    count.textContent = n === total ? "共 " + total + " 门课程"
      : "显示 " + n + " 门，共 " + total + " 门课程";
    if (empty) empty.hidden = n > 0;
    if (share && history.replaceState) {
      var p = new URLSearchParams(), v = q.value.trim();
      if (v) p.set("q", v);
      if (m) p.set("major", m);
      var s = p.toString();
      history.replaceState(null, "", location.pathname + (s ? "?" + s : "") + location.hash);
    }
  }

  var params = new URLSearchParams(location.search);
  q.value = params.get("q") || "";
  var want = params.get("major");
  for (var i = 0; want && i < major.options.length; i++)
    if (major.options[i].value === want) major.selectedIndex = i;

  function update() { apply(true); }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (e) { e.preventDefault(); update(); });
  form.addEventListener("reset", function () { setTimeout(update, 0); });
  form.hidden = false;
  apply(false);
})();
