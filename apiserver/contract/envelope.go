package contract

// SuccessBody is the body of a successful DELETE in the enveloped families.
type SuccessBody struct {
	Success bool `json:"success"`
}
