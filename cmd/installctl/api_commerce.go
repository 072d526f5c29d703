package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/client"
)

func (a *app) apiQuotesCmd(f *apiFlags) *cobra.Command {
	var ta string
	cmd := &cobra.Command{Use: "quotes", Short: "Read, list and download commerce quotes", Args: cobra.NoArgs}
	cmd.PersistentFlags().StringVar(&ta, "transaction-account", "", "transaction account id (header X-transaction-account)")

	var (
		opts client.QuoteListOptions
		all  bool
		out  string
	)
	list := a.apiLeaf(f, "list", "List the transaction account's quotes", 0,
		func(ctx context.Context, c *client.Client, _ []string) (any, error) {
			if !all {
				v, _, err := c.Quotes.List(ctx, ta, &opts)
				return v, err
			}
			quotes := []client.Quote{}
			for q, err := range c.Quotes.ListIter(ctx, ta, opts) {
				if err != nil {
					return nil, err
				}
				quotes = append(quotes, q)
			}
			return quotes, nil
		})
	list.Flags().IntVar(&opts.PageSize, "page-size", 0, "quotes per page")
	list.Flags().StringVar(&opts.StartID, "start-id", "", "start at this quote id (a page's nextId)")
	list.Flags().StringVar(&opts.Status, "status", "", "only quotes with this status")
	list.Flags().StringVar(&opts.SortBy, "sort-by", "", "sort order, as the API names it")
	list.Flags().BoolVar(&all, "all", false, "follow every page and print a JSON array of quotes")

	download := &cobra.Command{
		Use:     "download QUOTE_ID",
		Short:   "Download a quote as PDF",
		Example: "  installctl api quotes download Q-123 --transaction-account TA -o quote.pdf",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.apiClient(f)
			if err != nil {
				return err
			}
			body, _, err := c.Quotes.Download(cmd.Context(), args[0], ta)
			if err != nil {
				return err
			}
			defer body.Close()
			w, err := a.createOutput(out)
			if err != nil {
				return err
			}
			n, err := io.Copy(w, body)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("download quote %s: %w", args[0], err)
			}
			if out != "-" {
				fmt.Fprintf(a.stderr, "wrote %s (%d bytes)\n", out, n)
			}
			return nil
		},
	}
	download.Flags().StringVarP(&out, "output", "o", "", "write the PDF to `FILE` (- for standard output)")
	_ = download.MarkFlagRequired("output")
	_ = download.MarkFlagFilename("output", "pdf")

	cmd.AddCommand(
		a.apiLeaf(f, "get QUOTE_ID", "Read a quote", 1,
			func(ctx context.Context, c *client.Client, args []string) (any, error) {
				v, _, err := c.Quotes.Get(ctx, args[0], ta)
				return v, err
			}),
		list, download,
	)
	return cmd
}
