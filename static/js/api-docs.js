// The API documentation page: Swagger UI (static/vendor/swagger-ui) reading the schema from our own origin.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: node.getAttribute("data-schema-url"),
    domNode: node,
    deepLinking: true,
    persistAuthorization: false,
  });
})();
