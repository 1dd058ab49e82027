// Small helpers for the admin console; every page also works without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Ask before destructive actions (cancel an order, dismiss a volunteer, delete a service).
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  // The hub switcher submits when another hub is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // Progress bars get their width from data-value (inline styles are not allowed by the CSP).
  document.querySelectorAll(".progress[data-value] span").forEach(function (el) {
    el.style.width = Math.max(0, Math.min(100, Number(el.parentNode.getAttribute("data-value")))) + "%";
  });
});
