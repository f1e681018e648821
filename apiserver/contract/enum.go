package contract

import "slices"

// Every enum of the contract is a string type with a list of its values
// (AuthTypes, ServerStatuses, …); these serve all of them.

// oneOf reports whether v is one of values: the Valid method of every enum.
func oneOf[T ~string](v T, values []T) bool {
	return slices.Contains(values, v)
}

// Strings returns values as plain strings, e.g. for a schema validator's
// list of allowed values.
func Strings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
