package atlassiantest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/procurement/atlassian-installer/client"
)

const (
	defaultQuotePageSize = 20
	maxQuotePageSize     = 100
)

type quoteState struct {
	list []*client.Quote
	byID map[string]int
}

func (q *quoteState) load(quotes []client.Quote) {
	q.list, q.byID = nil, map[string]int{}
	for _, x := range quotes {
		c := x
		q.byID[c.ID] = len(q.list)
		q.list = append(q.list, &c)
	}
}

func (q *quoteState) dump() []client.Quote {
	out := make([]client.Quote, 0, len(q.list))
	for _, x := range q.list {
		out = append(out, *x)
	}
	return out
}

// quote finds a quote, checking the transaction account when one is named.
func (q *quoteState) quote(id, txa string) (*client.Quote, bool) {
	i, ok := q.byID[id]
	if !ok || (txa != "" && q.list[i].TransactionAccountID != txa) {
		return nil, false
	}
	return q.list[i], true
}

func (s *Server) handleGetQuote(w http.ResponseWriter, r *http.Request, _ *call) {
	id := r.PathValue("quoteId")
	s.st.mu.Lock()
	q, ok := s.st.quotes.quote(id, r.Header.Get("X-transaction-account"))
	var out client.Quote
	if ok {
		out = *q
	}
	s.st.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "quote not found: "+id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleListQuotes(w http.ResponseWriter, r *http.Request, _ *call) {
	v := r.URL.Query()
	var errs []fieldError
	size := min(intParam(v, "pageSize", defaultQuotePageSize, 1, &errs), maxQuotePageSize)
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	txa, status, start := r.Header.Get("X-transaction-account"), v.Get("status"), v.Get("startId")
	s.st.mu.Lock()
	var matched []client.Quote
	for _, q := range s.st.quotes.list {
		if (txa == "" || q.TransactionAccountID == txa) && (status == "" || q.Status == status) {
			matched = append(matched, *q)
		}
	}
	s.st.mu.Unlock()
	switch v.Get("sortBy") {
	case "", "createdAt":
	case "-createdAt":
		slices.Reverse(matched)
	case "updatedAt":
		slices.SortStableFunc(matched, func(a, b client.Quote) int { return int(a.UpdatedAt - b.UpdatedAt) })
	default:
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "sortBy: not createdAt, -createdAt or updatedAt", fieldError{"sortBy", "not createdAt, -createdAt or updatedAt"})
		return
	}
	from := 0
	if start != "" {
		from = slices.IndexFunc(matched, func(q client.Quote) bool { return q.ID == start })
		if from < 0 {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "startId: no such quote "+start, fieldError{"startId", "no such quote"})
			return
		}
	}
	end := min(from+size, len(matched))
	out := client.QuoteList{Data: matched[from:end]}
	if out.Data == nil {
		out.Data = []client.Quote{}
	}
	if end < len(matched) {
		out.NextID = matched[end].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDownloadQuote(w http.ResponseWriter, r *http.Request, _ *call) {
	id, txa := r.PathValue("quoteId"), r.URL.Query().Get("transactionAccountId")
	if txa == "" {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "transactionAccountId: the query parameter is required",
			fieldError{"transactionAccountId", "required"})
		return
	}
	s.st.mu.Lock()
	q, ok := s.st.quotes.quote(id, txa)
	var lines []string
	var title string
	if ok {
		title, lines = quoteText(q)
	}
	s.st.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "quote not found in transaction account: "+id)
		return
	}
	if acc := r.Header.Get("Accept"); acc != "" && !strings.Contains(acc, "application/pdf") && !strings.Contains(acc, "*/*") {
		writeError(w, http.StatusNotAcceptable, "NOT_ACCEPTABLE", "the quote is only available as application/pdf")
		return
	}
	pdf := minimalPDF(title, lines)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="quote-`+safeFilename(q.Number, id)+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf)
}

// quoteText is what the quote PDF says. Call with st.mu held.
func quoteText(q *client.Quote) (string, []string) {
	title := "Quote " + q.Number
	if q.Number == "" {
		title = "Quote " + q.ID
	}
	lines := []string{
		"Name: " + q.Name,
		"Status: " + q.Status,
		"Transaction account: " + q.TransactionAccountID,
		"Invoice group: " + q.InvoiceGroupID,
		"",
	}
	for i, li := range q.LineItems {
		l := fmt.Sprintf("%d. %s %s", i+1, li.LineItemType, li.OfferingKey)
		for _, c := range li.ChargeQuantities {
			l += fmt.Sprintf(", %d %s", c.Quantity, c.ChargeElement)
		}
		lines = append(lines, l)
	}
	if b := q.UpcomingBills; b != nil {
		lines = append(lines, "", fmt.Sprintf("Subtotal %.2f  Tax %.2f  Total %.2f", b.SubTotal, b.Tax, b.Total))
	}
	return title, append(lines, "", "Issued by the Atlassian sandbox: not a binding offer.")
}

func safeFilename(preferred, fallback string) string {
	s := preferred
	if s == "" {
		s = fallback
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func defaultQuotes() []client.Quote {
	line := func(id, offering string, qty int64, elem string) client.QuoteLineItem {
		return client.QuoteLineItem{LineItemID: id, LineItemType: "CREATE_ENTITLEMENT", OfferingKey: offering,
			ChargeQuantities: []client.ChargeQuantity{{ChargeElement: elem, Quantity: qty}}, Status: "ACTIVE"}
	}
	return []client.Quote{
		{ID: QuoteID, Name: "Acme Enterprise renewal", Version: 1, ContractType: "STANDARD", Number: "Q-2026-0001",
			ExpiresAfterDays: 30, ExpiresAt: 1767225600000, Revision: 1, Locale: "en-US",
			TransactionAccountID: TransactionAccountID, InvoiceGroupID: InvoiceGroupID, Status: "FINALIZED",
			CreatedAt: 1764547200000, UpdatedAt: 1764547200000, FinalizedAt: 1764547200000,
			CreatedBy: &client.QuoteActor{Subject: "sales@acme.example", SubjectType: "USER"},
			LineItems: []client.QuoteLineItem{
				line("L1", "jira-software.ondemand", 100, "user"),
				line("L2", "confluence.ondemand", 100, "user"),
			},
			UpcomingBills: &client.QuoteUpcomingBills{SubTotal: 20000, Tax: 2000, Total: 22000}},
		{ID: "Q-2026-0002", Name: "JSM agents", Version: 1, ContractType: "STANDARD", Number: "Q-2026-0002",
			Revision: 1, Locale: "en-US", TransactionAccountID: TransactionAccountID, InvoiceGroupID: InvoiceGroupID,
			Status: "DRAFT", CreatedAt: 1764633600000, UpdatedAt: 1764633600000,
			LineItems: []client.QuoteLineItem{line("L1", "jira-servicedesk.ondemand", 25, "agent")}},
		{ID: "Q-2026-0003", Name: "Vendor app", Version: 2, ContractType: "STANDARD", Number: "Q-2026-0003",
			Revision: 2, Locale: "en-US", TransactionAccountID: TransactionAccountID, InvoiceGroupID: InvoiceGroupID,
			Status: "CANCELLED", CreatedAt: 1764720000000, UpdatedAt: 1764806400000,
			LineItems: []client.QuoteLineItem{line("L1", AppKey, 100, "agent")}},
	}
}
