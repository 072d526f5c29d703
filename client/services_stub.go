package client

// QuotesService reads and downloads commerce quotes (Commerce REST API,
// Quotes: https://developer.atlassian.com/platform/commerce/rest/api-group-quotes/).
type QuotesService service

// PromotionsService manages Marketplace promotions and their codes
// (https://developer.atlassian.com/platform/marketplace/rest/v4/api-group-promotions/).
type PromotionsService service

// CSMService manages JSM customer service management entitlements
// (https://developer.atlassian.com/cloud/customer-service-management/rest/api-group-entitlement/).
type CSMService service
