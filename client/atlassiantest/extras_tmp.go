package atlassiantest

// Quote is a fixture quote.
type Quote struct{}

// Promotion is a fixture promotion.
type Promotion struct{}

// CSMField is a fixture CSM detail field.
type CSMField struct{}

// CSMEntitlement is a fixture CSM entitlement.
type CSMEntitlement struct{}

func (f *Fixtures) addDefaultExtras() {}

type extraState struct{}

func (x *extraState) load(*Fixtures) {}
func (x *extraState) dump(*Fixtures) {}

func (x *extraState) promotionCodeUsable(code, appKey string) bool { return code == PromotionCode }
