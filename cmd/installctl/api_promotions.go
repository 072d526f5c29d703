package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/client"
)

func (a *app) apiPromotionsCmd(f *apiFlags) *cobra.Command {
	var partnerFlag string
	cmd := &cobra.Command{
		Use:   "promotions",
		Short: "Marketplace promotions and their codes",
		Args:  cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&partnerFlag, "partner", a.env("ATLASSIAN_PARTNER_ID", ""), "Marketplace partner id (env ATLASSIAN_PARTNER_ID)")
	partner := func() (int64, error) {
		id, err := strconv.ParseInt(partnerFlag, 10, 64)
		if err != nil || id <= 0 {
			return 0, invalid(fmt.Errorf("--partner %q: want the numeric Marketplace partner id", partnerFlag))
		}
		return id, nil
	}
	// leaf is apiLeaf with the partner id parsed first.
	leaf := func(use, short string, nargs int, call func(ctx context.Context, c *client.Client, p int64, args []string) (any, error)) *cobra.Command {
		return a.apiLeaf(f, use, short, nargs, func(ctx context.Context, c *client.Client, args []string) (any, error) {
			p, err := partner()
			if err != nil {
				return nil, err
			}
			return call(ctx, c, p, args)
		})
	}

	var (
		paged     bool
		all       bool
		opts      client.PromotionListOptions
		createF   string
		updateF   string
		activeArg bool
	)
	var list *cobra.Command
	list = leaf("list", "List the partner's promotions", 0,
		func(ctx context.Context, c *client.Client, p int64, _ []string) (any, error) {
			if list.Flags().Changed("active-only") {
				opts.ActiveOnly = &activeArg
			}
			switch {
			case all:
				ps := []client.Promotion{}
				for pr, err := range c.Promotions.ListPagedIter(ctx, p, opts) {
					if err != nil {
						return nil, err
					}
					ps = append(ps, pr)
				}
				return ps, nil
			case paged:
				v, _, err := c.Promotions.ListPaged(ctx, p, &opts)
				return v, err
			}
			v, _, err := c.Promotions.List(ctx, p)
			return v, err
		})
	lf := list.Flags()
	lf.BoolVar(&paged, "paged", false, "read one page of /promotions/paged (with --limit, --offset, …)")
	lf.BoolVar(&all, "all", false, "follow every page of /promotions/paged and print a JSON array")
	lf.IntVar(&opts.Limit, "limit", 0, "page size (paged)")
	lf.IntVar(&opts.Offset, "offset", 0, "offset (paged)")
	lf.StringVar(&opts.OrderBy, "order-by", "", "sort field, e.g. START_DATE (paged)")
	lf.StringVar(&opts.HostingType, "hosting-type", "", "hosting type, e.g. CLOUD (paged)")
	lf.StringVar(&opts.AppKey, "app-key", "", "only promotions of this app (paged)")
	lf.StringVar(&opts.NextID, "next-id", "", "page cursor (paged)")
	lf.BoolVar(&activeArg, "active-only", false, "only active promotions (paged)")

	create := leaf("create", "Create a promotion", 0,
		func(ctx context.Context, c *client.Client, p int64, _ []string) (any, error) {
			var req client.CreatePromotionRequest
			if err := a.readBody(createF, &req); err != nil {
				return nil, err
			}
			v, _, err := c.Promotions.Create(ctx, p, &req)
			return v, err
		})
	bodyFlag(create, &createF)
	update := leaf("update PROMOTION_ID", "Change a promotion (only the fields given)", 1,
		func(ctx context.Context, c *client.Client, p int64, args []string) (any, error) {
			var req client.UpdatePromotionRequest
			if err := a.readBody(updateF, &req); err != nil {
				return nil, err
			}
			_, err := c.Promotions.Update(ctx, p, args[0], &req)
			return done, err
		})
	bodyFlag(update, &updateF)

	codes := &cobra.Command{Use: "codes", Short: "Single-use codes of a promotion", Args: cobra.NoArgs}
	codes.AddCommand(
		leaf("list PROMOTION_ID", "List a promotion's codes", 1,
			func(ctx context.Context, c *client.Client, p int64, args []string) (any, error) {
				v, _, err := c.Promotions.ListCodes(ctx, p, args[0])
				return v, err
			}),
		leaf("get PROMOTION_ID CODE", "Show one code", 2,
			func(ctx context.Context, c *client.Client, p int64, args []string) (any, error) {
				v, _, err := c.Promotions.GetCode(ctx, p, args[0], args[1])
				return v, err
			}),
		leaf("add PROMOTION_ID", "Create a single-use code", 1,
			func(ctx context.Context, c *client.Client, p int64, args []string) (any, error) {
				v, _, err := c.Promotions.CreateCode(ctx, p, args[0])
				if v == nil {
					return done, err
				}
				return v, err
			}),
		leaf("delete PROMOTION_ID CODE", "Delete a code", 2,
			func(ctx context.Context, c *client.Client, p int64, args []string) (any, error) {
				_, err := c.Promotions.DeleteCode(ctx, p, args[0], args[1])
				return done, err
			}),
	)

	cmd.AddCommand(list,
		leaf("get PROMOTION_ID", "Show a promotion", 1,
			func(ctx context.Context, c *client.Client, p int64, args []string) (any, error) {
				v, _, err := c.Promotions.Get(ctx, p, args[0])
				return v, err
			}),
		create, update,
		leaf("status PROMOTION_ID", "Show a promotion's status", 1,
			func(ctx context.Context, c *client.Client, p int64, args []string) (any, error) {
				s, _, err := c.Promotions.GetStatus(ctx, p, args[0])
				return map[string]string{"status": s}, err
			}),
		codes,
	)
	return cmd
}
