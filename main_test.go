package main

import (
	"maps"
	"slices"
	"testing"
)

func TestQuietUnlessLogging(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{
			name: "no logging asked for: SDK and provider logs off",
			env:  map[string]string{},
			want: map[string]string{"TF_LOG_SDK": "off", "TF_LOG_SDK_PROTO": "off", "TF_LOG_SDK_FRAMEWORK": "off", "TF_LOG_PROVIDER_MCP": "off"},
		},
		{name: "TF_LOG set: untouched", env: map[string]string{"TF_LOG": "DEBUG"}, want: map[string]string{"TF_LOG": "DEBUG"}},
		{name: "provider logs asked for: untouched", env: map[string]string{"TF_LOG_PROVIDER_MCP": "TRACE"}, want: map[string]string{"TF_LOG_PROVIDER_MCP": "TRACE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(tt.env)
			quietUnlessLogging(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
			if !maps.Equal(env, tt.want) {
				t.Fatalf("environment = %v, want %v", env, tt.want)
			}
		})
	}
	if !slices.Contains(logVars, "TF_LOG") {
		t.Fatal("TF_LOG must switch the quieting off")
	}
}
