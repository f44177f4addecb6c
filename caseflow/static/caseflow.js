/* Small enhancements where scripts run; every page works without them (the buttons submit). */
(function () {
  "use strict";

  // Plan measures: "Add a measure" copies an empty row, "Remove" drops one, without a reload.
  function renumber(list) {
    var rows = list.querySelectorAll("[data-measure-row]");
    rows.forEach(function (row, i) {
      var legend = row.querySelector("legend");
      if (legend) legend.textContent = legend.textContent.replace(/\d+|__n__/, String(i + 1));
      var remove = row.querySelector(".remove-measure");
      if (remove) remove.hidden = rows.length < 2;
    });
  }

  function nextIndex(list) {
    var max = -1;
    list.querySelectorAll("[data-measure-row] .remove-measure").forEach(function (b) {
      var n = parseInt(b.value, 10);
      if (!isNaN(n) && n > max) max = n;
    });
    return max + 1;
  }

  function setUp(group) {
    var list = group.querySelector("[data-measure-list]");
    var template = group.querySelector("template[data-measure-template]");
    var status = group.querySelector("[data-measure-status]");
    var add = group.querySelector(".add-measure");
    if (!list || !template || !add) return;
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = String(nextIndex(list));
      var html = template.innerHTML.replace(/__i__/g, index);
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      list.appendChild(row);
      renumber(list);
      var first = row.querySelector("select, input, textarea");
      if (first) first.focus();
      if (status) status.textContent = row.querySelector("legend").textContent;
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest(".remove-measure");
      if (!button) return;
      event.preventDefault();
      var rows = list.querySelectorAll("[data-measure-row]");
      if (rows.length < 2) return;
      var row = button.closest("[data-measure-row]");
      var label = row.querySelector("legend").textContent;
      row.remove();
      renumber(list);
      add.focus();
      if (status) status.textContent = label + " \u2013 " + (add.dataset.removed || "");
    });
    renumber(list);
  }

  // A field that means something only when a box is ticked (the police case number) follows it.
  function follow(holder) {
    var box = document.getElementById(holder.getAttribute("data-shown-with"));
    if (!box) return;
    var sync = function () { holder.hidden = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-measures]").forEach(setUp);
    document.querySelectorAll("[data-shown-with]").forEach(follow);
  });
})();
