// Renders the contract as served by this server; its servers entry is this server, so that
// "Try it out" calls it. No validator badge: that would ask a remote service. Deep links are
// off because Swagger UI nests their anchors inside the operation's button.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: false,
  validatorUrl: null,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  displayOperationId: true,
  showExtensions: false,
  tryItOutEnabled: false,
  persistAuthorization: false,
  withCredentials: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});

// Swagger UI leaves some controls without a name and scrolling examples out of the tab order;
// name and include them as they appear.
(function () {
  function label(root) {
    root.querySelectorAll("select:not([aria-label])").forEach(function (s) {
      var name = s.id === "servers" ? "Server" : "";
      var row = s.closest("tr[data-param-name]");
      if (row) name = "Value of " + row.getAttribute("data-param-name");
      if (!name) {
        var wrap = s.closest("label, .content-type-wrapper, .response-control-media-type");
        name = wrap && wrap.textContent.trim() ? wrap.textContent.trim().slice(0, 60) : "Choose a value";
      }
      s.setAttribute("aria-label", name);
    });
    root.querySelectorAll(".microlight:not([tabindex]), .highlight-code pre:not([tabindex])").forEach(function (p) {
      p.setAttribute("tabindex", "0");
    });
  }
  var root = document.getElementById("swagger-ui");
  new MutationObserver(function () { label(root); }).observe(root, { childList: true, subtree: true });
})();
