"""How the OpenAPI schema describes our key authentication (drf-spectacular finds this extension on import)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "description": "An API key made under Settings → API keys."}


# OpenAPI links from what a POST makes to where it is read: clients (and schemathesis's stateful phase) follow them.
LINKS = {
    ("/api/v1/customers/", "post", "201"): {
        "ReadCustomer": ("customers_read", {"pk": "$response.body#/id"}),
        "EraseCustomer": ("customers_erase", {"pk": "$response.body#/id"}),
    },
    ("/api/v1/invitations/", "post", "201"): {"ReadInvitation": ("invitations_read", {"pk": "$response.body#/id"})},
    ("/api/v1/cases/", "post", "201"): {"ReadCase": ("cases_read", {"reference": "$response.body#/reference"})},
}


def add_links(result, generator, request, public):  # type: ignore[no-untyped-def]
    """drf-spectacular postprocessing hook: the links above, with the path parameters' names as in the schema."""
    for (path, method, code), links in LINKS.items():
        response = result["paths"].get(path, {}).get(method, {}).get("responses", {}).get(code)
        if response is None:
            continue
        response["links"] = {
            name: {"operationId": operation, "parameters": {("id" if k == "pk" else k): v for k, v in params.items()}}
            for name, (operation, params) in links.items()
        }
    return result
