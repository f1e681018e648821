resource "mcp_connection" "oms" {
  name       = "Order Management System"
  server_url = "https://mcp.example.com/oms"
}

# The order agent calls get_order and cancel_order. This check runs at every
# plan and apply: if the server stops offering either tool, Terraform warns
# (a check block never blocks an apply). The data source inside the check is
# read afresh each time, and a catalog it cannot read is a warning too.
check "oms_offers_the_order_tools" {
  data "mcp_connection_catalog" "oms" {
    connection_id = mcp_connection.oms.id
  }

  assert {
    condition = alltrue([
      for name in ["get_order", "cancel_order"] :
      contains([for t in data.mcp_connection_catalog.oms.tools : t.name], name)
    ])
    error_message = "The order management MCP server no longer offers get_order and cancel_order, which the order agent needs."
  }
}

# Outside a check block, the catalog is an ordinary data source.
data "mcp_connection_catalog" "oms_tools" {
  connection_id = mcp_connection.oms.id
}

output "oms_tools" {
  # input_schema is a JSON string; jsondecode reads it.
  value = {
    for t in data.mcp_connection_catalog.oms_tools.tools :
    t.name => {
      description = t.description
      arguments   = keys(try(jsondecode(t.input_schema).properties, {}))
      hash        = t.hash
    }
  }
}

output "oms_tools_hash" {
  value = data.mcp_connection_catalog.oms_tools.tools_hash
}
