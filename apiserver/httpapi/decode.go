package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// decodeObject reads the request body into dst, a pointer to a struct whose
// json tags name the accepted fields. Unlike encoding/json's defaults it
// matches field names exactly, rejects unknown fields, explicit nulls,
// trailing data and non-object bodies, and its errors name the field.
func decodeObject(r *http.Request, dst any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err // *http.MaxBytesError, or the client went away
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("request body is empty; send a JSON object")
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return jsonError(err)
	}
	if fields == nil {
		return badRequest("request body must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body must hold a single JSON object, found data after it")
	}

	allowed := jsonFieldNames(reflect.TypeOf(dst).Elem())
	// sorted so the reported field is deterministic when several are wrong
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains(allowed, name) {
			return badRequest("unknown field %q; allowed fields are %s", name, strings.Join(allowed, ", "))
		}
		if string(bytes.TrimSpace(fields[name])) == "null" {
			return badRequest("field %q cannot be null; omit it to leave it unset", name)
		}
	}

	strict := json.NewDecoder(bytes.NewReader(body))
	strict.DisallowUnknownFields()
	if err := strict.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			// encoding/json names a field of an embedded struct by the
			// struct's Go name too; the body knows only the JSON names
			typ.Field = withoutEmbedded(reflect.TypeOf(dst).Elem(), typ.Field)
		}
		return jsonError(err)
	}
	return nil
}

// withoutEmbedded is the dotted field path without the names of t's
// embedded structs.
func withoutEmbedded(t reflect.Type, path string) string {
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Type.Kind() == reflect.Struct {
			path = withoutEmbedded(f.Type, strings.TrimPrefix(path, f.Name+"."))
		}
	}
	return path
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("request body is not valid JSON (at byte %d): %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("request body is not valid JSON: it ends early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("request body must be a JSON object, got %s", typ.Value)
		}
		return badRequest("field %q must be %s, got %s", typ.Field, describeKind(typ.Type), typ.Value)
	default:
		return badRequest("request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func describeKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// jsonFieldNames lists the json names of t's fields in declaration order.
func jsonFieldNames(t reflect.Type) []string {
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			// an embedded struct's fields are the body's own, as encoding/json has it
			names = append(names, jsonFieldNames(f.Type)...)
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}
