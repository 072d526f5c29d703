package events

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	// Embedded zone data: validating site.timezone must not depend on the host's tzdata.
	_ "time/tzdata"
)

// Limits of request data (README, "Limits on input").
const (
	// MaxFieldErrors is how many field errors a ValidationError lists; one more entry,
	// with an empty field, counts the rest.
	MaxFieldErrors = 100
	// MaxMessageLen bounds a field error's message, in characters.
	MaxMessageLen = 512
	// MaxQuantity is the largest quantity of a product or app.
	MaxQuantity = 1_000_000
	// maxYearsAhead bounds endsAt and nextBillingAnchorTimestamp.
	maxYearsAhead = 10
	// maxQuotedLen bounds a value quoted in a message, in characters.
	maxQuotedLen = 64
)

// FieldError is one wrong field of a request, named by its JSON path ("site.timezone",
// "products[0].quantity"). It is also the shape of the failed event's "errors" entries.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists the wrong fields of a request, not only the first: at most
// MaxFieldErrors in the order of the data, then one entry with an empty field counting the
// others. It matches ErrInvalidRequest with errors.Is.
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
		if fe.Field != "" {
			b.WriteString(fe.Field)
			b.WriteString(": ")
		}
		b.WriteString(fe.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidRequest) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// fieldErrors collects errors in the order of the data, so messages are stable.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: truncate(fmt.Sprintf(format, args...), MaxMessageLen)})
}

// err returns the errors as a *ValidationError, the first MaxFieldErrors and a count of the
// rest, or nil.
func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	if len(fe) > MaxFieldErrors {
		more := len(fe) - MaxFieldErrors
		fe = append(fe[:MaxFieldErrors:MaxFieldErrors], FieldError{Message: fmt.Sprintf("… and %d more", more)})
	}
	return &ValidationError{Errors: fe}
}

// validator applies the contract's rules to a request, field by field in the order of the
// data. typed holds the fields that decoding found of the wrong JSON type: such a field
// reads as empty, so its type error is listed in its place and its rules are skipped.
type validator struct {
	errs  fieldErrors
	typed map[string]string
	now   time.Time
}

// field lists the type error of path, if it had one, and reports whether its rules apply.
func (v *validator) field(path string) bool {
	msg, ok := v.typed[path]
	if !ok {
		return true
	}
	v.errs = append(v.errs, FieldError{Field: path, Message: msg})
	delete(v.typed, path)
	return false
}

// finish lists type errors of fields no rule visited (none, as long as every decoded field
// has its place below), sorted so that the list stays stable.
func (v *validator) finish() fieldErrors {
	for _, f := range slices.Sorted(maps.Keys(v.typed)) {
		v.errs = append(v.errs, FieldError{Field: f, Message: v.typed[f]})
	}
	return v.errs
}

// Validate checks the request against the contract's rules and returns a *ValidationError
// listing the wrong fields, or nil. now is the time endsAt and nextBillingAnchorTimestamp
// must lie ahead of.
func (r *Request) Validate(now time.Time) error {
	v := &validator{now: now}
	v.request(r)
	return v.finish().err()
}

func (v *validator) request(r *Request) {
	v.text("orgId", r.OrgID, true)
	if v.text("adminEmail", r.AdminEmail, true) {
		if msg := checkEmail(r.AdminEmail); msg != "" {
			v.errs.add("adminEmail", "%s", msg)
		}
	}
	v.site(r)
	hasProducts, hasApp := r.Products != nil, r.App != nil
	if v.field("products") {
		switch {
		case !hasProducts && !hasApp:
			v.errs.add("products", "required: give exactly one of products and app")
		case hasProducts && len(r.Products) == 0:
			v.errs.add("products", "must list at least one product")
		}
	}
	for i := range r.Products {
		v.product(fmt.Sprintf("products[%d]", i), &r.Products[i])
	}
	if v.field("app") && hasProducts && hasApp {
		v.errs.add("app", "not allowed together with products: give exactly one of products and app")
	}
	if hasApp {
		v.app(r.App)
	}
	if v.field("billing") {
		if r.Billing != nil {
			v.text("billing.transactionAccountId", r.Billing.TransactionAccountID, true)
			v.text("billing.invoiceGroupId", r.Billing.InvoiceGroupID, true)
		} else if hasProducts && !hasApp && len(r.Products) > 0 && r.FirstParentEntitlementID() == "" {
			v.errs.add("billing", "required when no product has a parentEntitlementId: the billing is read from the parent entitlement's details")
		}
	}
	v.text("familyContainerOfferingId", r.FamilyContainerOfferingID, false)
}

func (v *validator) site(r *Request) {
	if !v.field("site") {
		return
	}
	// A missing site is reported as its required name: the field the contract requires.
	if r.Site == nil {
		v.errs.add("site.name", "required")
		return
	}
	s := r.Site
	if v.text("site.name", s.Name, true) {
		if msg := checkSiteName(s.Name); msg != "" {
			v.errs.add("site.name", "%s", msg)
		}
	}
	if v.field("site.create") && s.Create && r.App != nil && r.Products == nil {
		v.errs.add("site.create", "must be false for an app install: an app is installed on an existing site")
	}
	if v.field("site.timezone") {
		switch {
		case s.Create && s.Timezone == "":
			v.errs.add("site.timezone", "required when site.create is true")
		case v.text("site.timezone", s.Timezone, false):
			if msg := checkTimezone(s.Timezone); msg != "" {
				v.errs.add("site.timezone", "%s", msg)
			}
		}
	}
}

func (v *validator) product(path string, p *Product) {
	if !v.field(path) {
		return
	}
	path += "."
	v.text(path+"offeringId", p.OfferingID, true)
	if v.text(path+"family", p.Family, false) && p.Family != FamilyJira {
		v.errs.add(path+"family", "must be %q or empty, got %s", FamilyJira, quoted(p.Family))
	}
	v.text(path+"location", p.Location, false)
	v.text(path+"chargeElement", p.ChargeElement, true)
	if v.field(path + "quantity") {
		v.quantity(path+"quantity", p.Quantity)
	}
	v.text(path+"parentEntitlementId", p.ParentEntitlementID, false)
	v.text(path+"pricingPlanId", p.PricingPlanID, false)
	v.timestamp(path+"endsAt", p.EndsAt)
	v.timestamp(path+"nextBillingAnchorTimestamp", p.NextBillingAnchorTimestamp)
}

func (v *validator) app(a *App) {
	v.text("app.appKey", a.AppKey, true)
	v.text("app.offeringId", a.OfferingID, true)
	if v.field("app.hostProduct") {
		if a.HostProduct == "" && a.ProductARI == "" {
			v.errs.add("app.hostProduct", "required unless app.productAri is given")
		} else {
			v.check("app.hostProduct", a.HostProduct, false)
		}
	}
	if v.text("app.productAri", a.ProductARI, false) && !strings.HasPrefix(a.ProductARI, "ari:cloud:") {
		v.errs.add("app.productAri", "must be an Atlassian resource identifier starting with \"ari:cloud:\"")
	}
	// Both a charge element and a quantity, or neither.
	if v.field("app.chargeElement") {
		if a.ChargeElement == "" && a.Quantity != 0 {
			v.errs.add("app.chargeElement", "required when app.quantity is given")
		} else {
			v.check("app.chargeElement", a.ChargeElement, false)
		}
	}
	if v.field("app.quantity") {
		switch {
		case a.Quantity != 0:
			v.quantity("app.quantity", a.Quantity)
		case a.ChargeElement != "":
			v.errs.add("app.quantity", "required when app.chargeElement is given: a whole number from 1 to %d", MaxQuantity)
		}
	}
	v.text("app.pricingPlanId", a.PricingPlanID, false)
	v.text("app.promotionCode", a.PromotionCode, false)
	v.field("app.skipTrial")
	v.timestamp("app.endsAt", a.EndsAt)
}

// text checks a string of the data (see check) unless it had a type error.
func (v *validator) text(field, s string, required bool) bool {
	return v.field(field) && v.check(field, s, required)
}

// check checks a string of the data: a required one must not be blank, none may hold a
// control character (it could not travel in a header, and would break logs). It reports
// whether the value is present and clean, so that further rules apply.
func (v *validator) check(field, s string, required bool) bool {
	if required && strings.TrimSpace(s) == "" {
		v.errs.add(field, "required")
		return false
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		v.errs.add(field, "must not contain control characters, got %U at byte %d", r, i)
		return false
	}
	return s != ""
}

func (v *validator) quantity(field string, q int64) {
	if q < 1 || q > MaxQuantity {
		v.errs.add(field, "must be a whole number from 1 to %d, got %d", MaxQuantity, q)
	}
}

// timestamp checks a time in milliseconds since the epoch: absent (0), or in the future and
// at most ten years ahead. A value that would be in that range as seconds is named so: the
// commonest mistake.
func (v *validator) timestamp(field string, ms int64) {
	if !v.field(field) || ms == 0 {
		return
	}
	now, limit := v.now.UnixMilli(), v.now.AddDate(maxYearsAhead, 0, 0).UnixMilli()
	switch {
	case ms > now/1000 && ms <= limit/1000:
		v.errs.add(field, "must be in milliseconds since the epoch, got %d, which is a time in seconds (%s)", ms, formatSeconds(ms))
	case ms <= now:
		v.errs.add(field, "must be a time in the future, in milliseconds since the epoch, got %d (%s)", ms, formatMillis(ms))
	case ms > limit:
		v.errs.add(field, "must be at most %d years ahead, in milliseconds since the epoch, got %d (%s)", maxYearsAhead, ms, formatMillis(ms))
	}
}

func formatSeconds(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }
func formatMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// checkSiteName applies the contract's charset plus the DNS label rules the site's host name
// must obey anyway (at most 63 characters, no hyphen at either end).
func checkSiteName(name string) string {
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Sprintf("must contain only lowercase letters, digits and hyphens, got %s", quoted(name))
		}
	}
	if strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return fmt.Sprintf("must not begin or end with a hyphen, got %s", quoted(name))
	}
	if len(name) > 63 {
		return fmt.Sprintf("must be at most 63 characters, got %d", len(name))
	}
	return ""
}

// checkTimezone accepts IANA zone names only: time.LoadLocation also takes "Local", which names
// whatever zone the installer's host is in.
func checkTimezone(tz string) string {
	bad := fmt.Sprintf("must be an IANA time zone name such as \"Australia/Sydney\", got %s", quoted(tz))
	if tz == "Local" {
		return bad
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return bad
	}
	return ""
}

// checkEmail wants a bare address (no display name or angle brackets) with a domain.
func checkEmail(s string) string {
	bad := fmt.Sprintf("must be an email address such as admin@example.com, got %s", quoted(s))
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

// quoted quotes a value for a message, cut to maxQuotedLen characters: a message names the
// value, it need not repeat a megabyte of it.
func quoted(s string) string {
	if utf8.RuneCountInString(s) <= maxQuotedLen {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", truncateRunes(s, maxQuotedLen))
}

// truncate cuts s to at most n characters, the last being "…" when it was cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return truncateRunes(s, n-1) + "…"
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
