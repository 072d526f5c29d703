package events

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	// Embedded zone data: validating site.timezone must not depend on the host's tzdata.
	_ "time/tzdata"
)

// FieldError is one wrong field of a request, named by its JSON path ("site.timezone",
// "products[0].quantity"). It is also the shape of the failed event's "errors" entries.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every wrong field of a request, not only the first. It matches
// ErrInvalidRequest with errors.Is.
type ValidationError struct {
	Errors []FieldError
}

// Error lists the fields and their messages on one line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidRequest.Error())
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field)
		b.WriteString(": ")
		b.WriteString(fe.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidRequest) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// fieldErrors collects errors in the order the schema lists the fields, so messages are stable.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// has reports whether field, or a value it is part of (site for site.name), is listed.
func (fe fieldErrors) has(field string) bool {
	for _, e := range fe {
		if e.Field == field || strings.HasPrefix(field, e.Field+".") || strings.HasPrefix(field, e.Field+"[") {
			return true
		}
	}
	return false
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &ValidationError{Errors: fe}
}

// Validate checks the request against the contract's rules and returns a *ValidationError
// listing every wrong field, or nil.
func (r *Request) Validate() error {
	var fe fieldErrors
	r.validate(&fe)
	return fe.err()
}

func (r *Request) validate(fe *fieldErrors) {
	requireString(fe, "orgId", r.OrgID)
	if requireString(fe, "adminEmail", r.AdminEmail) {
		if msg := checkEmail(r.AdminEmail); msg != "" {
			fe.add("adminEmail", "%s", msg)
		}
	}

	hasProducts, hasApp := r.Products != nil, r.App != nil
	switch {
	case !hasProducts && !hasApp:
		fe.add("products", "required: give exactly one of products and app")
	case hasProducts && hasApp:
		fe.add("app", "not allowed together with products: give exactly one of products and app")
	}

	r.validateSite(fe)
	if hasProducts {
		r.validateProducts(fe)
	}
	if hasApp {
		r.App.validate(fe)
	}
	if r.Billing != nil {
		requireString(fe, "billing.transactionAccountId", r.Billing.TransactionAccountID)
		requireString(fe, "billing.invoiceGroupId", r.Billing.InvoiceGroupID)
	} else if hasProducts && !hasApp && len(r.Products) > 0 && r.FirstParentEntitlementID() == "" {
		fe.add("billing", "required when no product has a parentEntitlementId: the billing is read from the parent entitlement's details")
	}
}

func (r *Request) validateSite(fe *fieldErrors) {
	// A missing site is reported as its required name: the field the contract requires.
	if r.Site == nil {
		fe.add("site.name", "required")
		return
	}
	s := r.Site
	if s.Name == "" {
		fe.add("site.name", "required")
	} else if msg := checkSiteName(s.Name); msg != "" {
		fe.add("site.name", "%s", msg)
	}
	if s.Create && r.App != nil && r.Products == nil {
		fe.add("site.create", "must be false for an app install: an app is installed on an existing site")
	}
	switch {
	case s.Create && s.Timezone == "":
		fe.add("site.timezone", "required when site.create is true")
	case s.Timezone != "":
		if msg := checkTimezone(s.Timezone); msg != "" {
			fe.add("site.timezone", "%s", msg)
		}
	}
}

func (r *Request) validateProducts(fe *fieldErrors) {
	if len(r.Products) == 0 {
		fe.add("products", "must list at least one product")
		return
	}
	for i, p := range r.Products {
		path := fmt.Sprintf("products[%d].", i)
		requireString(fe, path+"offeringId", p.OfferingID)
		requireString(fe, path+"chargeElement", p.ChargeElement)
		if p.Quantity <= 0 {
			fe.add(path+"quantity", "must be greater than 0, got %d", p.Quantity)
		}
		if p.Family != "" && p.Family != FamilyJira {
			fe.add(path+"family", "must be %q or empty, got %q", FamilyJira, p.Family)
		}
		nonNegative(fe, path+"endsAt", p.EndsAt)
		nonNegative(fe, path+"nextBillingAnchorTimestamp", p.NextBillingAnchorTimestamp)
	}
}

func (a *App) validate(fe *fieldErrors) {
	requireString(fe, "app.appKey", a.AppKey)
	requireString(fe, "app.offeringId", a.OfferingID)
	if a.HostProduct == "" && a.ProductARI == "" {
		fe.add("app.hostProduct", "required unless app.productAri is given")
	}
	if a.ProductARI != "" && !strings.HasPrefix(a.ProductARI, "ari:cloud:") {
		fe.add("app.productAri", "must be an Atlassian resource identifier starting with \"ari:cloud:\"")
	}
	switch {
	case a.Quantity < 0:
		fe.add("app.quantity", "must be greater than 0, got %d", a.Quantity)
	case a.Quantity > 0 && a.ChargeElement == "":
		fe.add("app.chargeElement", "required when app.quantity is given")
	case a.Quantity == 0 && a.ChargeElement != "":
		fe.add("app.quantity", "must be greater than 0 when app.chargeElement is given")
	}
	nonNegative(fe, "app.endsAt", a.EndsAt)
}

// requireString reports an empty or blank value and returns whether the value is present.
func requireString(fe *fieldErrors, field, v string) bool {
	if strings.TrimSpace(v) == "" {
		fe.add(field, "required")
		return false
	}
	return true
}

func nonNegative(fe *fieldErrors, field string, v int64) {
	if v < 0 {
		fe.add(field, "must be a timestamp in milliseconds, got %d", v)
	}
}

// checkSiteName applies the contract's charset plus the DNS label rules the site's host name
// must obey anyway (at most 63 characters, no hyphen at either end).
func checkSiteName(name string) string {
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Sprintf("must contain only lowercase letters, digits and hyphens, got %q", name)
		}
	}
	if strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return fmt.Sprintf("must not begin or end with a hyphen, got %q", name)
	}
	if len(name) > 63 {
		return fmt.Sprintf("must be at most 63 characters, got %d", len(name))
	}
	return ""
}

// checkTimezone accepts IANA zone names only: time.LoadLocation also takes "Local", which names
// whatever zone the installer's host is in.
func checkTimezone(tz string) string {
	if tz == "Local" {
		return `must be an IANA time zone name such as "Australia/Sydney", got "Local"`
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Sprintf("must be an IANA time zone name such as \"Australia/Sydney\", got %q", tz)
	}
	return ""
}

// checkEmail wants a bare address (no display name or angle brackets) with a domain.
func checkEmail(s string) string {
	bad := fmt.Sprintf("must be an email address such as admin@example.com, got %q", s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return bad
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n") {
		return bad
	}
	return ""
}
