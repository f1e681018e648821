package provider

// Upstream authentication beyond a bearer token (SPEC §9), which
// mcp_connection and mcp_server share: extra headers, OAuth 2.0 client
// credentials and TLS. Their secrets (header values, the client secret,
// the TLS client key) are only ever write-only, so none reaches plan or
// state; each is one writeOnly, like the bearer token.

import (
	"bytes"
	"context"
	"encoding/pem"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// The write-only secrets of §9.
var (
	headers            = writeOnly{name: "headers", noun: "headers", plural: true}
	oauth2ClientSecret = writeOnly{name: "client_secret", noun: "client secret", parent: "oauth2"}
	tlsClientKey       = writeOnly{name: "client_key", noun: "key", parent: "tls"}
)

// upstreamAuthFields are the §9 attributes of a resource.
type upstreamAuthFields struct {
	HeadersWO        types.Map    `tfsdk:"headers_wo"`
	HeadersWOVersion types.Int64  `tfsdk:"headers_wo_version"`
	HeaderNames      types.List   `tfsdk:"header_names"`
	OAuth2           types.Object `tfsdk:"oauth2"`
	TLS              types.Object `tfsdk:"tls"`
}

// oauth2Model is the resource's oauth2 object.
type oauth2Model struct {
	TokenURL                types.String `tfsdk:"token_url"`
	ClientID                types.String `tfsdk:"client_id"`
	ClientSecretWO          types.String `tfsdk:"client_secret_wo"`
	ClientSecretWOVersion   types.Int64  `tfsdk:"client_secret_wo_version"`
	Scopes                  types.Set    `tfsdk:"scopes"`
	Audience                types.String `tfsdk:"audience"`
	Resource                types.String `tfsdk:"resource"`
	TokenEndpointAuthMethod types.String `tfsdk:"token_endpoint_auth_method"`
}

func (m oauth2Model) secret() writeOnlyValues[types.String] {
	return writeOnlyValues[types.String]{stored: types.StringNull(), writeOnly: m.ClientSecretWO, version: m.ClientSecretWOVersion}
}

// tlsModel is the resource's tls object.
type tlsModel struct {
	CABundle           types.String `tfsdk:"ca_bundle"`
	ClientCertificate  types.String `tfsdk:"client_certificate"`
	ClientKeyWO        types.String `tfsdk:"client_key_wo"`
	ClientKeyWOVersion types.Int64  `tfsdk:"client_key_wo_version"`
}

func (m tlsModel) key() writeOnlyValues[types.String] {
	return writeOnlyValues[types.String]{stored: types.StringNull(), writeOnly: m.ClientKeyWO, version: m.ClientKeyWOVersion}
}

func (f upstreamAuthFields) headers() writeOnlyValues[types.Map] {
	return writeOnlyValues[types.Map]{stored: types.MapNull(types.StringType), writeOnly: f.HeadersWO, version: f.HeadersWOVersion}
}

var (
	scopesType      = types.SetType{ElemType: types.StringType}
	oauth2AttrTypes = map[string]fwattr.Type{
		"token_url": types.StringType, "client_id": types.StringType,
		"client_secret_wo": types.StringType, "client_secret_wo_version": types.Int64Type,
		"scopes": scopesType, "audience": types.StringType, "resource": types.StringType,
		"token_endpoint_auth_method": types.StringType,
	}
	tlsAttrTypes = map[string]fwattr.Type{
		"ca_bundle": types.StringType, "client_certificate": types.StringType,
		"client_key_wo": types.StringType, "client_key_wo_version": types.Int64Type,
	}
	oauth2ViewAttrTypes = map[string]fwattr.Type{
		"token_url": types.StringType, "client_id": types.StringType, "scopes": scopesType,
		"audience": types.StringType, "resource": types.StringType, "token_endpoint_auth_method": types.StringType,
	}
	tlsViewAttrTypes = map[string]fwattr.Type{
		"ca_bundle": types.StringType, "client_certificate": types.StringType, "client_key_set": types.BoolType,
	}
)

// Descriptions shared by the resources and the data sources.
const (
	descHeaderNames = "Names of the extra HTTP headers the API sends to the MCP server (from `headers_wo`), sorted; " +
		"their values are never returned."
	descOAuth2 = "OAuth 2.0 client credentials (RFC 6749 §4.4) with which the API fetches an access token and sends " +
		"it as `Authorization: Bearer <token>`; set when `auth_type` is `oauth2`."
	descTokenURL = "The authorization server's token endpoint, an `https` URL (`http` only on a loopback host). " +
		"Null: the API discovers it as the MCP authorization specification says (the server's 401 " +
		"`WWW-Authenticate`, then RFC 9728 protected resource metadata, then RFC 8414 authorization server metadata)."
	descClientID     = "The OAuth 2.0 client id."
	descScopes       = "Scopes the token is requested for, each one RFC 6749 scope token."
	descAudience     = "The `audience` parameter of the token request, for authorization servers that need one."
	descResource     = "The RFC 8707 `resource` indicator of the token request: the MCP server's URL as its authorization server knows it."
	descAuthMethod   = "How the client authenticates to the token endpoint: `client_secret_basic` (HTTP Basic) or `client_secret_post` (form fields)."
	descTLS          = "TLS settings for reaching the MCP server: a private certificate authority and a client certificate for mutual TLS."
	descCABundle     = "PEM certificates of the authorities the MCP server's certificate must chain to, instead of the system's."
	descClientCert   = "PEM client certificate (optionally followed by its intermediates) the API presents for mutual TLS."
	descClientKeySet = "Whether the API holds the client certificate's private key (which it never returns)."
)

// upstreamAuthResourceAttributes are the §9 attributes of a resource.
// resetBy names the root attributes whose change may change header_names.
func upstreamAuthResourceAttributes(resetBy ...string) map[string]schema.Attribute {
	attrs := headers.writeOnlyMap(
		"Extra HTTP headers (name to value) the API sends to the MCP server on every request, checks and "+
			"gateway alike, such as an API key header: write-only, so no value reaches the plan or state "+
			"(the API stores them encrypted and returns only their names, in `header_names`).",
		"Changing `headers_wo_version` sends the whole map, which replaces the headers the API holds; removing "+
			"both removes them. At most 20; names are RFC 9110 tokens and never `Host`, `Content-Length`, "+
			"`Transfer-Encoding`, `Connection`, `Mcp-Session-Id`, `Mcp-Protocol-Version`, nor `Authorization` "+
			"when `auth_type` sends one.")
	attrs["header_names"] = schema.ListAttribute{
		ElementType:         types.StringType,
		Computed:            true,
		MarkdownDescription: descHeaderNames,
		PlanModifiers:       []planmodifier.List{headerNamesPlan{resetBy: append([]string{headers.versionName()}, resetBy...)}},
	}

	oauth2Attrs := map[string]schema.Attribute{
		"token_url": schema.StringAttribute{Optional: true, MarkdownDescription: descTokenURL,
			Validators: []validator.String{validTokenURL}},
		"client_id": schema.StringAttribute{Required: true, MarkdownDescription: descClientID,
			Validators: []validator.String{validClientID}},
		"scopes": schema.SetAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: descScopes,
			Validators: []validator.Set{validScopes{}}},
		"audience": schema.StringAttribute{Optional: true, MarkdownDescription: descAudience,
			Validators: []validator.String{validAudience}},
		"resource": schema.StringAttribute{Optional: true, MarkdownDescription: descResource,
			Validators: []validator.String{validResource}},
		"token_endpoint_auth_method": schema.StringAttribute{
			Optional: true, Computed: true,
			Default:             stringdefault.StaticString(contract.ClientSecretBasic),
			MarkdownDescription: descAuthMethod + " Defaults to `client_secret_basic`.",
			Validators:          []validator.String{stringvalidator.OneOf(contract.TokenEndpointAuthMethods...)},
		},
	}
	for name, a := range oauth2ClientSecret.writeOnlyString(
		"The OAuth 2.0 client secret, write-only: sent to the API, which stores it encrypted, and never to the plan or state.",
		"Required with `oauth2`.", validClientSecret) {
		oauth2Attrs[name] = a
	}
	attrs["oauth2"] = schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: descOAuth2 + " Required when `auth_type = \"oauth2\"`, not allowed otherwise.",
		Attributes:          oauth2Attrs,
	}

	tlsAttrs := map[string]schema.Attribute{
		"ca_bundle": schema.StringAttribute{Optional: true, MarkdownDescription: descCABundle,
			Validators: []validator.String{validCABundle}},
		"client_certificate": schema.StringAttribute{Optional: true,
			MarkdownDescription: descClientCert + " Requires `client_key_wo`; changing it sends `client_key_wo` too.",
			Validators:          []validator.String{validClientCertificate}},
	}
	for name, a := range tlsClientKey.writeOnlyString(
		"The PEM private key of `client_certificate`, write-only: sent to the API, which stores it encrypted, and never to the plan or state.",
		"Required with `client_certificate`.") {
		tlsAttrs[name] = a
	}
	attrs["tls"] = schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: descTLS + " Set `ca_bundle`, `client_certificate` with `client_key_wo`, or both; " +
			"removing `tls` removes every TLS setting.",
		Attributes: tlsAttrs,
	}
	return attrs
}

// upstreamAuthView is what the data sources show of §9: no secret.
type upstreamAuthView struct {
	HeaderNames types.List   `tfsdk:"header_names"`
	OAuth2      types.Object `tfsdk:"oauth2"`
	TLS         types.Object `tfsdk:"tls"`
}

// upstreamAuthDataSourceAttributes are upstreamAuthView's attributes.
func upstreamAuthDataSourceAttributes() map[string]dsschema.Attribute {
	str := dataSourceComputed.str
	return map[string]dsschema.Attribute{
		"header_names": dsschema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: descHeaderNames},
		"oauth2": dataSourceComputed.object(descOAuth2+" Null otherwise. The client secret is never returned.", map[string]dsschema.Attribute{
			"token_url": str(descTokenURL), "client_id": str(descClientID),
			"scopes":   dsschema.SetAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: descScopes},
			"audience": str(descAudience), "resource": str(descResource), "token_endpoint_auth_method": str(descAuthMethod),
		}),
		"tls": dataSourceComputed.object(descTLS+" Null when there are none. The client key is never returned.", map[string]dsschema.Attribute{
			"ca_bundle": str(descCABundle), "client_certificate": str(descClientCert),
			"client_key_set": dataSourceComputed.boolean(descClientKeySet),
		}),
	}
}

// upstreamAuthViewOf converts the API's view.
func upstreamAuthViewOf(a contract.UpstreamAuth) upstreamAuthView {
	v := upstreamAuthView{
		HeaderNames: headerNamesOf(a.HeaderNames),
		OAuth2:      types.ObjectNull(oauth2ViewAttrTypes),
		TLS:         types.ObjectNull(tlsViewAttrTypes),
	}
	if o := a.OAuth2; o != nil {
		v.OAuth2 = types.ObjectValueMust(oauth2ViewAttrTypes, map[string]fwattr.Value{
			"token_url": types.StringPointerValue(o.TokenURL), "client_id": types.StringValue(o.ClientID),
			"scopes": scopesOf(o.Scopes, types.SetNull(types.StringType)), "audience": types.StringPointerValue(o.Audience),
			"resource": types.StringPointerValue(o.Resource), "token_endpoint_auth_method": types.StringValue(authMethodOf(o)),
		})
	}
	if t := a.TLS; hasTLS(t) {
		v.TLS = types.ObjectValueMust(tlsViewAttrTypes, map[string]fwattr.Value{
			"ca_bundle": types.StringPointerValue(t.CABundle), "client_certificate": types.StringPointerValue(t.ClientCertificate),
			"client_key_set": types.BoolValue(t.ClientKeySet),
		})
	}
	return v
}

func hasTLS(t *contract.TLS) bool {
	return t != nil && (t.CABundle != nil || t.ClientCertificate != nil || t.ClientKeySet)
}

func authMethodOf(o *contract.OAuth2) string {
	if o.TokenEndpointAuthMethod == "" {
		return contract.ClientSecretBasic
	}
	return o.TokenEndpointAuthMethod
}

// headerNamesOf is the API's header names as a list, empty (not null)
// when there are none.
func headerNamesOf(names []string) types.List {
	elems := make([]fwattr.Value, len(names))
	for i, n := range names {
		elems[i] = types.StringValue(n)
	}
	return types.ListValueMust(types.StringType, elems)
}

// scopesOf is the API's scopes as a set. None reads as prior when that is
// an empty set (the configuration says scopes = []), else as null.
func scopesOf(scopes []string, prior types.Set) types.Set {
	if len(scopes) == 0 {
		if known(prior) && len(prior.Elements()) == 0 {
			return prior
		}
		return types.SetNull(types.StringType)
	}
	elems := make([]fwattr.Value, len(scopes))
	for i, s := range scopes {
		elems[i] = types.StringValue(s)
	}
	return types.SetValueMust(types.StringType, elems)
}

// refresh replaces f's values with the API's, after a read or an import.
// The secrets' versions are Terraform's own and stay; so does a PEM value
// the API returns in another layout but with the same certificates.
func (f *upstreamAuthFields) refresh(ctx context.Context, a contract.UpstreamAuth) diag.Diagnostics {
	var diags diag.Diagnostics
	f.HeadersWO = types.MapNull(types.StringType)
	f.HeaderNames = headerNamesOf(a.HeaderNames)

	var prior oauth2Model
	if known(f.OAuth2) {
		diags.Append(f.OAuth2.As(ctx, &prior, basetypes.ObjectAsOptions{})...)
	}
	f.OAuth2 = types.ObjectNull(oauth2AttrTypes)
	if o := a.OAuth2; o != nil {
		m := oauth2Model{
			TokenURL: types.StringPointerValue(o.TokenURL), ClientID: types.StringValue(o.ClientID),
			ClientSecretWO: types.StringNull(), ClientSecretWOVersion: nullIfZero(prior.ClientSecretWOVersion),
			Scopes: scopesOf(o.Scopes, prior.Scopes), Audience: types.StringPointerValue(o.Audience),
			Resource: types.StringPointerValue(o.Resource), TokenEndpointAuthMethod: types.StringValue(authMethodOf(o)),
		}
		if known(prior.Scopes) && sameStrings(prior.Scopes, o.Scopes) {
			m.Scopes = prior.Scopes // the API may list them in another order
		}
		var d diag.Diagnostics
		f.OAuth2, d = types.ObjectValueFrom(ctx, oauth2AttrTypes, m)
		diags.Append(d...)
	}

	var priorTLS tlsModel
	if known(f.TLS) {
		diags.Append(f.TLS.As(ctx, &priorTLS, basetypes.ObjectAsOptions{})...)
	}
	f.TLS = types.ObjectNull(tlsAttrTypes)
	if t := a.TLS; hasTLS(t) {
		m := tlsModel{
			CABundle:          samePEMOr(priorTLS.CABundle, t.CABundle),
			ClientCertificate: samePEMOr(priorTLS.ClientCertificate, t.ClientCertificate),
			ClientKeyWO:       types.StringNull(), ClientKeyWOVersion: nullIfZero(priorTLS.ClientKeyWOVersion),
		}
		var d diag.Diagnostics
		f.TLS, d = types.ObjectValueFrom(ctx, tlsAttrTypes, m)
		diags.Append(d...)
	}
	return diags
}

// afterWrite is f's state after a create or update: the configured
// objects as planned (the plan holds no write-only value) and the API's
// header names.
func (f upstreamAuthFields) afterWrite(a contract.UpstreamAuth) upstreamAuthFields {
	f.HeadersWO = types.MapNull(types.StringType)
	f.HeaderNames = headerNamesOf(a.HeaderNames)
	return f
}

// nullIfZero turns the zero types.Int64 of an absent prior object into null.
func nullIfZero(v types.Int64) types.Int64 {
	if v.IsUnknown() {
		return types.Int64Null()
	}
	return v
}

func sameStrings(set types.Set, want []string) bool {
	var got []string
	for _, e := range set.Elements() {
		s, ok := e.(types.String)
		if !ok || !known(s) {
			return false
		}
		got = append(got, s.ValueString())
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	return slices.Equal(got, w)
}

// samePEMOr is prior when it holds the same PEM blocks as the API's value,
// else the API's value.
func samePEMOr(prior types.String, api *string) types.String {
	if api != nil && known(prior) && samePEM(prior.ValueString(), *api) {
		return prior
	}
	return types.StringPointerValue(api)
}

func samePEM(a, b string) bool {
	ba, bb := pemBlocks(a), pemBlocks(b)
	if len(ba) == 0 || len(ba) != len(bb) {
		return false
	}
	for i := range ba {
		if ba[i].Type != bb[i].Type || !bytes.Equal(ba[i].Bytes, bb[i].Bytes) {
			return false
		}
	}
	return true
}

func pemBlocks(s string) []*pem.Block {
	var blocks []*pem.Block
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return blocks
		}
		blocks = append(blocks, b)
	}
}

// createRequest is the §9 part of a create body: every configured value,
// secrets from config (the plan holds none).
func createRequest(ctx context.Context, plan, config upstreamAuthFields) (contract.UpstreamAuthRequest, diag.Diagnostics) {
	var (
		req   contract.UpstreamAuthRequest
		diags diag.Diagnostics
	)
	if known(config.HeadersWO) {
		req.Headers = stringMap(ctx, config.HeadersWO, &diags)
	}
	if known(plan.OAuth2) {
		req.OAuth2 = oauth2Request(ctx, plan.OAuth2, config.OAuth2, true, &diags)
	}
	if known(plan.TLS) {
		req.TLS = tlsRequest(ctx, plan.TLS, config.TLS, true, &diags)
	}
	return req, diags
}

// updateRequest is the §9 part of a PATCH: only what changed between state
// and plan, each secret only when its version changed (or the object that
// holds it is new). authChanged is whether auth_type changed, which calls
// for the oauth2 object (with its secret) when it becomes oauth2.
func updateRequest(ctx context.Context, plan, state, config upstreamAuthFields, authChanged bool) (contract.UpstreamAuthRequest, diag.Diagnostics) {
	var (
		req   contract.UpstreamAuthRequest
		diags diag.Diagnostics
	)
	if plan.headers().changedFrom(state.headers()) {
		req.Headers = new(map[string]string{}) // none configured: remove them all
		if known(config.HeadersWO) {
			req.Headers = stringMap(ctx, config.HeadersWO, &diags)
		}
	}

	if known(plan.OAuth2) && (authChanged || !plan.OAuth2.Equal(state.OAuth2)) {
		withSecret := authChanged || !known(state.OAuth2)
		if !withSecret {
			var p, s oauth2Model
			diags.Append(plan.OAuth2.As(ctx, &p, basetypes.ObjectAsOptions{})...)
			diags.Append(state.OAuth2.As(ctx, &s, basetypes.ObjectAsOptions{})...)
			withSecret = p.secret().changedFrom(s.secret())
		}
		req.OAuth2 = oauth2Request(ctx, plan.OAuth2, config.OAuth2, withSecret, &diags)
	}
	// A null oauth2 goes with an auth_type other than oauth2, and the API
	// drops the configuration when auth_type changes.

	if !plan.TLS.Equal(state.TLS) {
		if !known(plan.TLS) {
			req.TLS = &contract.TLSRequest{} // removes every TLS setting
		} else {
			withKey := !known(state.TLS)
			if !withKey {
				var p, s tlsModel
				diags.Append(plan.TLS.As(ctx, &p, basetypes.ObjectAsOptions{})...)
				diags.Append(state.TLS.As(ctx, &s, basetypes.ObjectAsOptions{})...)
				// A new certificate needs its key.
				withKey = p.key().changedFrom(s.key()) || !p.ClientCertificate.Equal(s.ClientCertificate)
			}
			req.TLS = tlsRequest(ctx, plan.TLS, config.TLS, withKey, &diags)
		}
	}
	return req, diags
}

// setsAny reports whether req sets anything.
func setsAny(req contract.UpstreamAuthRequest) bool {
	return req.Headers != nil || req.OAuth2 != nil || req.TLS != nil
}

func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) *map[string]string {
	out := map[string]string{}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return &out
}

// oauth2Request builds the oauth2 object of a request from the planned
// object, and the secret from the configured one when withSecret.
func oauth2Request(ctx context.Context, plan, config types.Object, withSecret bool, diags *diag.Diagnostics) *contract.OAuth2Request {
	var p oauth2Model
	diags.Append(plan.As(ctx, &p, basetypes.ObjectAsOptions{})...)
	req := &contract.OAuth2Request{
		TokenURL: p.TokenURL.ValueStringPointer(), ClientID: p.ClientID.ValueString(),
		Audience: p.Audience.ValueStringPointer(), Resource: p.Resource.ValueStringPointer(),
		TokenEndpointAuthMethod: p.TokenEndpointAuthMethod.ValueString(),
	}
	if known(p.Scopes) {
		diags.Append(p.Scopes.ElementsAs(ctx, &req.Scopes, false)...)
		slices.Sort(req.Scopes) // a set has no order; the request has one, always the same
	}
	if withSecret && known(config) {
		var c oauth2Model
		diags.Append(config.As(ctx, &c, basetypes.ObjectAsOptions{})...)
		req.ClientSecret = c.ClientSecretWO.ValueStringPointer()
	}
	return req
}

// tlsRequest builds the tls object of a request from the planned object,
// and the key from the configured one when withKey.
func tlsRequest(ctx context.Context, plan, config types.Object, withKey bool, diags *diag.Diagnostics) *contract.TLSRequest {
	var p tlsModel
	diags.Append(plan.As(ctx, &p, basetypes.ObjectAsOptions{})...)
	req := &contract.TLSRequest{CABundle: p.CABundle.ValueStringPointer(), ClientCertificate: p.ClientCertificate.ValueStringPointer()}
	if withKey && known(config) {
		var c tlsModel
		diags.Append(config.As(ctx, &c, basetypes.ObjectAsOptions{})...)
		req.ClientKey = c.ClientKeyWO.ValueStringPointer()
	}
	return req
}

// validateUpstreamAuth checks at plan time the rules that tie §9's
// attributes to each other and to auth_type (null means the resource's
// default, which is never oauth2). Unknown values may turn out either way,
// so they never fail a check.
func validateUpstreamAuth(ctx context.Context, cfg upstreamAuthFields, authType types.String, diags *diag.Diagnostics) {
	if !authType.IsUnknown() {
		isOAuth2 := contract.AuthType(authType.ValueString()) == contract.AuthOAuth2
		switch {
		case isOAuth2 && cfg.OAuth2.IsNull():
			diags.AddAttributeError(path.Root("auth_type"), "Missing oauth2",
				"auth_type = \"oauth2\" needs an oauth2 object with at least client_id, client_secret_wo and "+
					"client_secret_wo_version (token_url too, unless the MCP server's metadata names it).")
		case !isOAuth2 && !cfg.OAuth2.IsNull():
			diags.AddAttributeError(path.Root("oauth2"), "oauth2 without OAuth 2.0 authentication",
				"oauth2 is only used when auth_type = \"oauth2\". Set auth_type = \"oauth2\", or remove oauth2.")
		}
		checkHeadersConfig(cfg.HeadersWO, contract.AuthType(authType.ValueString()), diags)
	} else {
		// All but the Authorization rule, which depends on auth_type.
		checkHeadersConfig(cfg.HeadersWO, contract.AuthNone, diags)
	}

	if known(cfg.OAuth2) {
		var o oauth2Model
		diags.Append(cfg.OAuth2.As(ctx, &o, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		if o.ClientSecretWO.IsNull() {
			diags.AddAttributeError(path.Root("oauth2").AtName(oauth2ClientSecret.woName()), "Missing client secret",
				"oauth2 needs client_secret_wo, the client's secret, with client_secret_wo_version (Terraform 1.11 "+
					"and later; never stored in state).")
		}
	}

	if known(cfg.TLS) {
		var t tlsModel
		diags.Append(cfg.TLS.As(ctx, &t, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		tlsPath := path.Root("tls")
		switch {
		case t.CABundle.IsNull() && t.ClientCertificate.IsNull():
			diags.AddAttributeError(tlsPath, "Empty tls",
				"tls needs ca_bundle, client_certificate with client_key_wo, or both. To use no TLS settings, remove tls.")
		case !t.ClientCertificate.IsNull() && t.ClientKeyWO.IsNull():
			diags.AddAttributeError(tlsPath.AtName(tlsClientKey.woName()), "Missing client key",
				"tls.client_certificate needs its private key: set tls.client_key_wo with tls.client_key_wo_version.")
		case t.ClientCertificate.IsNull() && !t.ClientKeyWO.IsNull():
			diags.AddAttributeError(tlsPath.AtName("client_certificate"), "Missing client certificate",
				"tls.client_key_wo is only used with tls.client_certificate: set the certificate, or remove the key.")
		case known(t.ClientCertificate) && known(t.ClientKeyWO):
			// The certificate is checked on its own by its validator; the key
			// is checked against a valid one.
			if contract.ValidateClientCertificate(t.ClientCertificate.ValueString()) == nil {
				if err := contract.ValidateClientKey(t.ClientCertificate.ValueString(), t.ClientKeyWO.ValueString()); err != nil {
					diags.AddAttributeError(tlsPath.AtName(tlsClientKey.woName()), "Invalid client_key_wo", "tls.client_key_wo "+err.Error()+".")
				}
			}
		}
	}
}

// headerNamesPlan plans header_names: the state's names while nothing that
// can change them changes (resetBy: headers_wo_version, auth_type, ...),
// else unknown, since the API says which names it keeps. It also warns
// when headers_wo names other headers than the API holds but its version
// is unchanged, so they would not be sent.
type headerNamesPlan struct{ resetBy []string }

var _ planmodifier.List = headerNamesPlan{}

func (headerNamesPlan) Description(context.Context) string {
	return "kept until headers_wo_version changes"
}

func (m headerNamesPlan) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (m headerNamesPlan) PlanModifyList(ctx context.Context, req planmodifier.ListRequest, resp *planmodifier.ListResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() || req.StateValue.IsNull() {
		return // destroy, or create: the API says
	}
	for _, name := range m.resetBy {
		var planned, prior fwattr.Value
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root(name), &planned)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root(name), &prior)...)
		if resp.Diagnostics.HasError() || !planned.Equal(prior) {
			return
		}
	}
	resp.PlanValue = req.StateValue

	var configured types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(headers.woName()), &configured)...)
	if !known(configured) {
		return
	}
	var held []string
	resp.Diagnostics.Append(req.StateValue.ElementsAs(ctx, &held, false)...)
	want := make([]string, 0, len(configured.Elements()))
	for name := range configured.Elements() {
		want = append(want, strings.ToLower(name))
	}
	for i := range held {
		held[i] = strings.ToLower(held[i])
	}
	slices.Sort(want)
	slices.Sort(held)
	if !slices.Equal(want, held) {
		if len(held) == 0 {
			held = []string{"none"}
		}
		resp.Diagnostics.AddAttributeWarning(path.Root(headers.woName()), "headers_wo changed but headers_wo_version did not",
			"headers_wo names other headers than the API holds ("+strings.Join(held, ", ")+"), but Terraform sends "+
				"headers_wo only when headers_wo_version changes. Change headers_wo_version to send the new headers.")
	}
}
