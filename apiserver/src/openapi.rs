//! `/api/openapi.json`: an OpenAPI 3.1 document generated from the router's table, so it
//! cannot drift from the routes that exist.

use crate::router::{Access, routes};
use serde_json::{Map, Value, json};

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in routes() {
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "operationId": r.name,
            "summary": r.summary,
            "parameters": params,
            "responses": {
                "200": {"description": "Success"},
                "4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if r.access != Access::Anyone {
            op["security"] = json!([{"session": []}]);
            op["x-access"] = json!(if r.access == Access::Admin { "admin" } else { "user" });
        }
        if let Some(o) = entry.as_object_mut() {
            o.insert(r.method.as_str().to_ascii_lowercase(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Bincio API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::auth::session::COOKIE_NAME}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}},
        },
    })
}
