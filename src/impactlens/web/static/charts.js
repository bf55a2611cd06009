// Draws the report's own Vega-Lite specs (embedded in the page as JSON) with vega-embed.
(function () {
  "use strict";
  var source = document.getElementById("specs");
  if (!source || !window.vegaEmbed) { return; }
  var specs = JSON.parse(source.textContent);
  document.querySelectorAll("[data-spec]").forEach(function (el) {
    var spec = specs[el.getAttribute("data-spec")];
    if (!spec) { el.remove(); return; }
    // vega-embed renames the container "Vega visualization": keep the page's own name
    var label = el.getAttribute("aria-label");
    // no action menu: its links lead to the online Vega editor
    window.vegaEmbed(el, spec, { actions: false, renderer: "svg" }).then(function () {
      el.setAttribute("role", "img");
      if (label) { el.setAttribute("aria-label", label); }
      el.setAttribute("data-rendered", "true");
    }).catch(function (err) {
      el.textContent = "This chart could not be drawn: " + err.message;
    });
  });
})();
