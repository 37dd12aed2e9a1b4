// Renders the contract as served by this server; its servers entry is this server, so that
// "Try it out" calls it. No validator badge: that would ask a remote service.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
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
