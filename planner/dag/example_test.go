package dag_test

import (
	"context"
	"errors"
	"fmt"

	"cutover/planner/dag"
)

func Example() {
	g := dag.New()
	for _, k := range []string{
		`vm.db["sql01"].enable_replication`,
		`vm.app["web01"].enable_replication`,
		`vm.app["web01"].test_failover`,
	} {
		g.Add(k)
	}
	// The app's replication waits for the database's; its test failover
	// waits for its own replication.
	g.Connect(`vm.app["web01"].enable_replication`, `vm.db["sql01"].enable_replication`)
	g.Connect(`vm.app["web01"].test_failover`, `vm.app["web01"].enable_replication`)
	if err := g.Validate(); err != nil {
		fmt.Println(err)
		return
	}

	// Resume: the database step succeeded in an earlier apply.
	res := g.Walk(context.Background(), 4, func(ctx context.Context, key string) error {
		if key == `vm.app["web01"].test_failover` {
			return errors.New("gate closed: replication not healthy")
		}
		return nil
	}, dag.WithDone(`vm.db["sql01"].enable_replication`))
	fmt.Print(res)
	// Output:
	// done vm.db["sql01"].enable_replication
	// succeeded vm.app["web01"].enable_replication
	// failed vm.app["web01"].test_failover: gate closed: replication not healthy
}
