package catalog

import "slices"

// Change is how the tools of two catalogs differ, by tool name, each list
// sorted: the body of a catalog-change entry (SPEC §8).
type Change struct {
	ToolsAdded   []string `json:"toolsAdded"`
	ToolsRemoved []string `json:"toolsRemoved"`
	ToolsChanged []string `json:"toolsChanged"` // same name, different hash
}

// IsEmpty reports whether the catalogs have the same tools.
func (c Change) IsEmpty() bool {
	return len(c.ToolsAdded) == 0 && len(c.ToolsRemoved) == 0 && len(c.ToolsChanged) == 0
}

// Diff compares two catalogs' tool hashes by name (see Catalog.ToolHashes).
// The lists are never nil, so they encode as [] rather than null.
func Diff(before, after map[string]string) Change {
	c := Change{ToolsAdded: []string{}, ToolsRemoved: []string{}, ToolsChanged: []string{}}
	for name, hash := range after {
		switch was, ok := before[name]; {
		case !ok:
			c.ToolsAdded = append(c.ToolsAdded, name)
		case was != hash:
			c.ToolsChanged = append(c.ToolsChanged, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			c.ToolsRemoved = append(c.ToolsRemoved, name)
		}
	}
	slices.Sort(c.ToolsAdded)
	slices.Sort(c.ToolsRemoved)
	slices.Sort(c.ToolsChanged)
	return c
}
