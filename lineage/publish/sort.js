/* Sorting for the published sub-processor tables (flowreg): bundled, progressive enhancement.
   Without JavaScript the tables stay in their published order. Each column header becomes a
   button; activating it sorts by that column (again: reverse) and sets aria-sort. Cells may
   give their sort key in data-sort (dates, "not recorded"); otherwise their text is used. */
(function () {
  "use strict";
  function key(cell) {
    var given = cell.getAttribute("data-sort");
    return given !== null ? given : cell.textContent.replace(/\s+/g, " ").trim();
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = key(a.cells[index]).localeCompare(key(b.cells[index]), undefined, { numeric: true, sensitivity: "base" });
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
}());
