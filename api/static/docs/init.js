// Swagger UI for /docs, from the vendored bundle; a file, not an inline script, so that the
// page's Content-Security-Policy can forbid inline scripts.
"use strict";
window.ui = SwaggerUIBundle({
  url: "openapi.json", // beside /docs, under any path prefix
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
