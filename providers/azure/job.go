package azure

import (
	"context"
	"strings"
	"time"

	asr "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"
)

// Job is an ASR replication job (what currentScenario.jobId and a Handle's
// JobID point to), for display and for following operations started
// elsewhere.
type Job struct {
	ID           string
	Name         string
	Scenario     string
	FriendlyName string
	State        string
	Target       string
	Start        time.Time
	End          time.Time
	Errors       []JobError
}

// JobError is the service's error for a failed job.
type JobError struct {
	Code    string
	Message string
}

// Terminal reports whether the job has finished one way or another.
func (j *Job) Terminal() bool {
	switch j.State {
	case "Succeeded", "Failed", "Cancelled", "Canceled", "Suspended":
		return true
	}
	return false
}

// Job reads a replication job by ARM ID or name.
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	name := id[strings.LastIndex(id, "/")+1:]
	resp, err := c.jobs.Get(ctx, c.vault.ResourceGroup, c.vault.Name, name, nil)
	if err != nil {
		return nil, classify("", "get job "+name, err)
	}
	j := jobFrom(&resp.Job)
	return &j, nil
}

func jobFrom(m *asr.Job) Job {
	j := Job{ID: str(m.ID), Name: str(m.Name)}
	if p := m.Properties; p != nil {
		j.Scenario, j.FriendlyName, j.State, j.Target = str(p.ScenarioName), str(p.FriendlyName), str(p.State), str(p.TargetObjectName)
		j.Start, j.End = utc(p.StartTime), utc(p.EndTime)
		for _, e := range p.Errors {
			if e != nil && e.ServiceErrorDetails != nil {
				j.Errors = append(j.Errors, JobError{Code: str(e.ServiceErrorDetails.Code), Message: str(e.ServiceErrorDetails.Message)})
			}
		}
	}
	return j
}
