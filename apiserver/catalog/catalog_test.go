package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func raws(items ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, s := range items {
		out[i] = json.RawMessage(s)
	}
	return out
}

func TestBuild(t *testing.T) {
	c, err := Build(
		raws(echoTool, addTool),
		raws(`{"name":"greet","title":"Greet","description":"Say hello","arguments":[{"name":"who","required":true}],"_meta":{"x":1}}`),
		raws(`{"uri":"file:///a.txt","name":"a","mimeType":"text/plain","size":3}`),
		false,
	)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(c.Tools) != 2 || c.Tools[0].Name != "add" || c.Tools[1].Name != "echo" {
		t.Fatalf("tools %+v, want add and echo, sorted by name", c.Tools)
	}
	// The order a server lists in does not matter: same catalog, same bytes.
	again, err := Build(raws(addTool, echoTool), raws(`{"name":"greet","title":"Greet","description":"Say hello","arguments":[{"name":"who","required":true}],"_meta":{"x":1}}`),
		raws(`{"uri":"file:///a.txt","name":"a","mimeType":"text/plain","size":3}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, c), mustJSON(t, again); a != b {
		t.Errorf("catalogs listed in two orders differ:\n%s\n%s", a, b)
	}
	echo := c.Tools[1]
	if echo.Description != "Echo back" || echo.Title != "" {
		t.Errorf("echo title %q description %q", echo.Title, echo.Description)
	}
	// Schemas are kept in canonical form, so an unchanged tool stores the same bytes.
	if got, want := string(echo.InputSchema), `{"properties":{"text":{"type":"string"}},"required":["text"],"type":"object"}`; got != want {
		t.Errorf("inputSchema %s, want %s", got, want)
	}
	if echo.OutputSchema != nil || echo.Annotations != nil {
		t.Errorf("absent members: outputSchema %s annotations %s, want nil", echo.OutputSchema, echo.Annotations)
	}
	if got := string(c.Tools[0].Annotations); got != `{"readOnlyHint":true}` {
		t.Errorf("add annotations %s", got)
	}
	for _, tool := range c.Tools {
		if tool.Hash != mustToolHash(t, map[string]string{"echo": echoTool, "add": addTool}[tool.Name]) {
			t.Errorf("tool %s hash %s is not its ToolHash", tool.Name, tool.Hash)
		}
	}
	if c.ToolsHash != ToolsHash(c.Tools) || c.ToolsHash != "sha256:7ee06508de4a542c472c0a363972a7f831edcbceace0ca7bdcabdcc0917d4517" {
		t.Errorf("toolsHash %s", c.ToolsHash)
	}
	want := Prompt{Name: "greet", Title: "Greet", Description: "Say hello", Arguments: json.RawMessage(`[{"name":"who","required":true}]`)}
	if len(c.Prompts) != 1 || fmt.Sprint(c.Prompts[0]) != fmt.Sprint(want) {
		t.Errorf("prompts %+v, want %+v", c.Prompts, want)
	}
	if len(c.Resources) != 1 || c.Resources[0] != (Resource{URI: "file:///a.txt", Name: "a", MIMEType: "text/plain"}) {
		t.Errorf("resources %+v", c.Resources)
	}
	if c.Truncated {
		t.Error("truncated, want not")
	}

	// The wire form has the field names of SPEC §8.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"tools":`, `"prompts":`, `"resources":`, `"toolsHash":`, `"truncated":false`,
		`"name":`, `"title":`, `"description":`, `"inputSchema":`, `"outputSchema":null`, `"annotations":`, `"hash":"sha256:`,
		`"arguments":`, `"uri":`, `"mimeType":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

func TestBuildEmpty(t *testing.T) {
	c, err := Build(nil, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c)
	want := `{"tools":[],"prompts":[],"resources":[],"toolsHash":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","truncated":false}`
	if string(b) != want {
		t.Errorf("empty catalog %s, want %s", b, want)
	}
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name                      string
		tools, prompts, resources []json.RawMessage
		msg                       string
	}{
		{"tool without name", raws(`{"description":"x"}`), nil, nil, `tool 0: no "name" member`},
		{"empty tool name", raws(`{"name":""}`), nil, nil, `tool 0: "name" is empty`},
		{"non-string tool name", raws(`{"name":7}`), nil, nil, `tool 0: "name" is 7, not a string`},
		{"newline in tool name", raws(`{"name":"a\nb"}`), nil, nil, "control character"},
		{"tool not an object", raws(`["echo"]`), nil, nil, "tool 0: a tool must be a JSON object"},
		{"non-string description", raws(`{"name":"t","description":{"en":"x"}}`), nil, nil, `tool 0: "t": "description" is {"en":"x"}, not a string`},
		{"duplicate tool names", raws(`{"name":"a"}`, `{"name":"b"}`, `{"name":"a","description":"evil twin"}`), nil, nil, `tools 0 and 2 are both named "a"`},
		{"invalid UTF-8", raws("{\"name\":\"t\",\"description\":\"\xc0\xaf\"}"), nil, nil, "tool 0: invalid JSON at byte 27: invalid UTF-8"},
		{"deep schema", raws(`{"name":"t","inputSchema":` + strings.Repeat(`{"items":`, 10_000) + `{}` + strings.Repeat(`}`, 10_000) + `}`), nil, nil, "nested deeper than 100 levels"},
		{"prompt without name", nil, raws(`{"title":"x"}`), nil, `prompt 0: no "name" member`},
		{"resource without uri", nil, nil, raws(`{"name":"x"}`), `resource 0: no "uri" member`},
		{"non-string mimeType", nil, nil, raws(`{"uri":"u","mimeType":1}`), `resource 0: "u": "mimeType" is 1, not a string`},
		{"long duplicate name shortened", raws(`{"name":"`+strings.Repeat("n", 1<<20)+`"}`, `{"name":"`+strings.Repeat("n", 1<<20)+`"}`), nil, nil, `both named "` + strings.Repeat("n", 64) + `"…: tool names must be unique`},
		{"invalid prompt", nil, raws(`{"name":"p",}`), nil, "prompt 0: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Build(tt.tools, tt.prompts, tt.resources, false)
			if err == nil {
				t.Fatalf("Build = %+v, want an error", c)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %.200q does not say %.200q", err, tt.msg)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestBuildItemLimit(t *testing.T) {
	tools := make([]json.RawMessage, 10_000)
	for i := range tools {
		tools[i] = json.RawMessage(fmt.Sprintf(`{"name":"t%05d"}`, i))
	}
	prompts := raws(`{"name":"p"}`)
	c, err := Build(tools, prompts, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tools) != MaxItemsPerKind || c.Tools[MaxItemsPerKind-1].Name != "t00999" || !c.Truncated {
		t.Errorf("%d tools, last %s, truncated %v; want the first %d, truncated", len(c.Tools), c.Tools[len(c.Tools)-1].Name, c.Truncated, MaxItemsPerKind)
	}
	if len(c.Prompts) != 1 {
		t.Errorf("the tool count limit dropped prompts: %+v", c.Prompts)
	}
	if c.ToolsHash != ToolsHash(c.Tools) {
		t.Error("toolsHash does not cover the kept tools")
	}

	// Exactly at the limit is not truncated.
	c, err = Build(tools[:MaxItemsPerKind], nil, nil, false)
	if err != nil || c.Truncated || len(c.Tools) != MaxItemsPerKind {
		t.Errorf("%d tools: kept %d, truncated %v, err %v", MaxItemsPerKind, len(c.Tools), c.Truncated, err)
	}
	// A lister that stopped early says so.
	if c, _ := Build(tools[:1], nil, nil, true); !c.Truncated {
		t.Error("truncated=true from the lister was lost")
	}
}

func TestBuildByteLimit(t *testing.T) {
	// A 50 MiB description is never parsed: it does not fit, so the catalog
	// ends before it.
	huge := json.RawMessage(`{"name":"big","description":"` + strings.Repeat("a", 50<<20) + `"}`)
	start := time.Now()
	c, err := Build(raws(`{"name":"small"}`, string(huge), `{"name":"after"}`), raws(`{"name":"p"}`), raws(`{"uri":"u"}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Build with a 50 MiB tool took %v", d)
	}
	if len(c.Tools) != 1 || c.Tools[0].Name != "small" || len(c.Prompts) != 0 || len(c.Resources) != 0 || !c.Truncated {
		t.Errorf("tools %d, prompts %d, resources %d, truncated %v; want only the first tool, truncated",
			len(c.Tools), len(c.Prompts), len(c.Resources), c.Truncated)
	}

	// Items that fill the budget exactly are all kept; one byte more is not.
	pad := func(name string, size int) string {
		s := `{"name":"` + name + `","description":""}`
		return s[:len(s)-2] + strings.Repeat("x", size-len(s)) + `"}`
	}
	half := MaxCatalogBytes / 2
	c, err = Build(raws(pad("a", half), pad("b", half)), nil, nil, false)
	if err != nil || len(c.Tools) != 2 || c.Truncated {
		t.Errorf("exactly %d bytes: kept %d, truncated %v, err %v", MaxCatalogBytes, len(c.Tools), c.Truncated, err)
	}
	c, err = Build(raws(pad("a", half), pad("b", half)), nil, raws(`{"uri":"u"}`), false)
	if err != nil || len(c.Tools) != 2 || len(c.Resources) != 0 || !c.Truncated {
		t.Errorf("one resource over the budget: tools %d resources %d truncated %v err %v", len(c.Tools), len(c.Resources), c.Truncated, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
