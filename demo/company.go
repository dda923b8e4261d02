package demo

import "github.com/tacit-social/tacit/community"

// Password is every demo account's password. The demo runs on loopback with made-up
// people; one password keeps the sign-ins easy to try.
const Password = "company-in-a-box"

const (
	roleUser      = community.RoleUser
	roleModerator = community.RoleModerator
	roleAdmin     = community.RoleAdmin
)

// department is one instance of the demo company and its people.
type department struct {
	slug, name, description, location, contact string
	people                                     []person
}

// person is an employee with what makes them findable: a title, expertise, profile
// fields and featured hashtags.
type person struct {
	username, name, title, note string
	role                        community.Role
	expertise                   []string
	featured                    []string
	askMeAbout                  string
}

// departments are the company: Engineering, Sales and Operations, four people each.
// Kubernetes is known in all three, so that "who knows Kubernetes?" answers across the
// company.
var departments = []department{
	{
		slug: "engineering", name: "Engineering", location: "Berlin", contact: "platform@example.com",
		description: "Engineering builds and runs the product: platform, frontend and data.",
		people: []person{
			{username: "ada", name: "Ada Moreau", title: "Platform lead", role: roleAdmin,
				note:      "I run the platform team: clusters, CI and the paging rota.",
				expertise: []string{"Kubernetes", "Go", "Observability"}, featured: []string{"kubernetes", "golang"},
				askMeAbout: "Kubernetes upgrades, Go services"},
			{username: "bruno", name: "Bruno Lindqvist", title: "Site reliability engineer", role: roleModerator,
				note:      "On call more often than I would like. Terraform fan.",
				expertise: []string{"Kubernetes", "Terraform", "Incident response"}, featured: []string{"kubernetes", "oncall"},
				askMeAbout: "Helm charts, incident reviews"},
			{username: "chloe", name: "Chloé Martin", title: "Frontend engineer", role: roleUser,
				note:      "Web app, design system and accessibility.",
				expertise: []string{"Accessibility", "CSS", "Design systems"}, featured: []string{"accessibility"},
				askMeAbout: "Screen readers, colour contrast"},
			{username: "dev", name: "Dev Patel", title: "Data engineer", role: roleUser,
				note:      "Pipelines, warehouses and the occasional dashboard.",
				expertise: []string{"PostgreSQL", "Data pipelines", "SQL"}, featured: []string{"postgres"},
				askMeAbout: "Slow queries"},
		},
	},
	{
		slug: "sales", name: "Sales", location: "Lyon", contact: "sales@example.com",
		description: "Sales and solutions engineering: customers, demos and deals.",
		people: []person{
			{username: "hugo", name: "Hugo Ferreira", title: "Head of sales", role: roleAdmin,
				note:      "Forecasts, pipeline reviews and too many flights.",
				expertise: []string{"Forecasting", "CRM"}, featured: []string{"forecast"},
				askMeAbout: "Pipeline reviews"},
			{username: "elena", name: "Elena Rossi", title: "Account executive", role: roleModerator,
				note:      "Enterprise accounts in southern Europe.",
				expertise: []string{"Enterprise deals", "Negotiation"}, featured: []string{"customers"},
				askMeAbout: "Procurement departments of large customers"},
			{username: "farid", name: "Farid Haddad", title: "Solutions engineer", role: roleUser,
				note:      "I show customers how the product runs on their own Kubernetes clusters.",
				expertise: []string{"Kubernetes", "Helm", "Customer demos"}, featured: []string{"kubernetes", "demos"},
				askMeAbout: "Installing on customers' clusters"},
			{username: "grace", name: "Grace Okafor", title: "Pricing analyst", role: roleUser,
				note:      "Spreadsheets with opinions.",
				expertise: []string{"Pricing", "Spreadsheets"}, featured: []string{"pricing"},
				askMeAbout: "Discount approvals"},
		},
	},
	{
		slug: "operations", name: "Operations", location: "Rotterdam", contact: "ops@example.com",
		description: "Operations keeps the company running: offices, IT, purchasing and the on-prem datacentre.",
		people: []person{
			{username: "ines", name: "Inès Dubois", title: "Head of operations", role: roleAdmin,
				note:      "Offices, budgets and everything in between.",
				expertise: []string{"Facilities", "Budgets"}, featured: []string{"facilities"},
				askMeAbout: "Office moves"},
			{username: "jonas", name: "Jonas Weber", title: "IT support lead", role: roleModerator,
				note:      "Laptops, accounts, single sign-on.",
				expertise: []string{"IT support", "Single sign-on", "Laptops"}, featured: []string{"itsupport"},
				askMeAbout: "Getting access to things"},
			{username: "kemal", name: "Kemal Aydın", title: "Purchasing", role: roleUser,
				note:      "Vendors, contracts and renewals.",
				expertise: []string{"Purchasing", "Vendor contracts"}, featured: []string{"purchasing"},
				askMeAbout: "Software licences"},
			{username: "lea", name: "Lea Novak", title: "Datacentre engineer", role: roleUser,
				note:      "Racks, networks and the on-prem Kubernetes cluster.",
				expertise: []string{"Kubernetes", "Networking", "Bare metal"}, featured: []string{"kubernetes", "datacentre"},
				askMeAbout: "Capacity on the on-prem cluster"},
		},
	},
}

// follows are who follows whom across the company ("user@department"), beside
// everyone following their own department's people.
var follows = [][2]string{
	{"farid@sales", "ada@engineering"},
	{"farid@sales", "lea@operations"},
	{"elena@sales", "ines@operations"},
	{"grace@sales", "dev@engineering"},
	{"hugo@sales", "ada@engineering"},
	{"ada@engineering", "farid@sales"},
	{"ada@engineering", "lea@operations"},
	{"bruno@engineering", "lea@operations"},
	{"dev@engineering", "grace@sales"},
	{"chloe@engineering", "jonas@operations"},
	{"lea@operations", "ada@engineering"},
	{"lea@operations", "bruno@engineering"},
	{"jonas@operations", "chloe@engineering"},
	{"ines@operations", "hugo@sales"},
	{"kemal@operations", "grace@sales"},
}

// post is a status one person writes, with its audience.
type post struct {
	author string // user@department
	// text may mention people as {user@department}, written out as the author's
	// instance spells them.
	text       string
	visibility community.Visibility
	scope      community.Scope
}

// posts cover every audience: world, company and department scope, each with
// Mastodon's visibilities.
var posts = []post{
	{"ada@engineering", "We are hiring two platform engineers in Berlin: #kubernetes, #golang and a taste for boring, reliable systems. Share it with anyone you know!",
		community.VisibilityPublic, community.ScopeWorld},
	{"ada@engineering", "The production clusters move to the next #kubernetes minor version on Thursday, 06:00–08:00. Deploys are frozen in that window.",
		community.VisibilityPublic, community.ScopeCompany},
	{"bruno@engineering", "Engineering only: the December on-call rota is in the wiki. Swap shifts before Friday please. #oncall",
		community.VisibilityPublic, community.ScopeDepartment},
	{"bruno@engineering", "Wrote up last week's incident: a #kubernetes node pool ran out of IP addresses. Lessons learned inside.",
		community.VisibilityUnlisted, community.ScopeCompany},
	{"chloe@engineering", "Accessibility audit of the web app: 12 findings, 3 serious (contrast and missing labels). Fixes land this sprint. #accessibility",
		community.VisibilityPublic, community.ScopeCompany},
	{"dev@engineering", "Dry run of the #postgres migration went fine: 40 minutes for the biggest table. Followers: the real one is on Sunday.",
		community.VisibilityPrivate, community.ScopeCompany},
	{"dev@engineering", "Team lunch on Wednesday, the new ramen place? #lunch",
		community.VisibilityUnlisted, community.ScopeDepartment},
	{"hugo@sales", "Sales team: forecasts for Q1 are due Friday noon. #forecast",
		community.VisibilityPublic, community.ScopeDepartment},
	{"elena@sales", "Meet us at the Lyon trade fair next week, stand B12! #events",
		community.VisibilityPublic, community.ScopeWorld},
	{"elena@sales", "Our case study with a logistics customer is out: 30% fewer support tickets in six months. #customers",
		community.VisibilityUnlisted, community.ScopeWorld},
	{"hugo@sales", "Followers: I am speaking at the regional sales conference on Thursday, come say hello. #events",
		community.VisibilityPrivate, community.ScopeWorld},
	{"grace@sales", "The new #pricing sheet is final: volume discounts start at 200 seats.",
		community.VisibilityPublic, community.ScopeCompany},
	{"farid@sales", "Demo cluster rebuilt from scratch with our #kubernetes Helm chart in 9 minutes. Customers love that one.",
		community.VisibilityPublic, community.ScopeCompany},
	{"grace@sales", "Followers only: the discount approval form moves to the new tool next month. #pricing",
		community.VisibilityPrivate, community.ScopeDepartment},
	{"ines@operations", "All offices are closed from 24 December to 1 January. Happy holidays! #facilities",
		community.VisibilityPublic, community.ScopeCompany},
	{"jonas@operations", "Operations: the new laptop image is ready; book a slot with me to switch. #itsupport",
		community.VisibilityPublic, community.ScopeDepartment},
	{"lea@operations", "Capacity report for the on-prem #kubernetes cluster: 61% CPU, 48% memory. Room for two more teams.",
		community.VisibilityPublic, community.ScopeCompany},
	{"kemal@operations", "The design tool licences renew on 1 February. Tell me by mid-January if you need fewer or more seats. #purchasing",
		community.VisibilityUnlisted, community.ScopeCompany},
	{"lea@operations", "{ada@engineering} could your team take a namespace on the on-prem cluster for the January load tests?",
		community.VisibilityDirect, community.ScopeCompany},
}

// The thread across departments: a question from Sales answered by Engineering and
// Operations.
var (
	threadQuestion = post{"farid@sales", "A customer asks how we run #kubernetes upgrades without downtime. Who can join a call on Tuesday?",
		community.VisibilityPublic, community.ScopeCompany}
	threadReplies = []post{
		{"ada@engineering", "Happy to join. We drain one node pool at a time behind PodDisruptionBudgets; I'll bring the runbook.",
			community.VisibilityPublic, community.ScopeCompany},
		{"lea@operations", "On-prem we do the same, but the control plane first. I can show the customer our maintenance windows.",
			community.VisibilityPublic, community.ScopeCompany},
		{"farid@sales", "Perfect, invites are out for Tuesday 14:00. Thank you both!",
			community.VisibilityPublic, community.ScopeCompany},
	}
	// directMessage is a private note between two people of one department.
	directMessage = post{"bruno@engineering", "{chloe@engineering} could you look at the alert dashboard's colours before Friday? Red and green are hard to tell apart for me.",
		community.VisibilityDirect, community.ScopeDepartment}
)

// A company-wide idea board on Operations, and a department board on Engineering.
var boards = []struct {
	home, creator, name, displayName, description string
	moderators                                    []string
	scope                                         community.Scope
}{
	{"operations", "ines@operations", "workplace", "Workplace ideas", "Ideas to make our offices and tools better, from anyone in the company.",
		[]string{"jonas@operations"}, community.ScopeCompany},
	{"engineering", "ada@engineering", "devex", "Developer experience", "What slows Engineering down, and how to fix it.",
		nil, community.ScopeDepartment},
}

// idea is posted on a board, voted on, and perhaps moved through the workflow by a
// moderator.
type idea struct {
	board, author, title, body string
	voters                     []string
	// states are the moderator's decisions, in order, each with a comment.
	states []ideaState
}

type ideaState struct {
	moderator string
	state     community.IdeaStatus
	comment   string
}

var ideas = []idea{
	{board: "workplace", author: "farid@sales", title: "Bike racks at every office",
		body:   "Half of Sales cycles to the Lyon office and locks bikes to the fence.",
		voters: []string{"ada@engineering", "chloe@engineering", "grace@sales", "lea@operations", "elena@sales"},
		states: []ideaState{
			{"jonas@operations", community.IdeaUnderReview, "Checking with the landlords of Lyon and Berlin."},
			{"jonas@operations", community.IdeaPlanned, "Budget approved: racks go up in January."},
		}},
	{board: "workplace", author: "chloe@engineering", title: "Quiet rooms for focused work",
		body:   "A bookable room without calls on each floor.",
		voters: []string{"dev@engineering", "kemal@operations", "hugo@sales"},
		states: []ideaState{{"ines@operations", community.IdeaUnderReview, "We are measuring how often meeting rooms sit empty."}}},
	{board: "workplace", author: "kemal@operations", title: "One laptop bag design for everyone",
		voters: []string{"grace@sales"}},
	{board: "devex", author: "bruno@engineering", title: "Preview environments for every pull request",
		body:   "Spin up a namespace per pull request and tear it down on merge.",
		voters: []string{"ada@engineering", "chloe@engineering", "dev@engineering"},
		states: []ideaState{{"ada@engineering", community.IdeaPlanned, "Platform takes it next quarter."}}},
}

// report is filed by someone in Operations about a post from Sales, and forwarded to
// Sales: it waits for a moderator on both instances.
var report = struct {
	reporter, author, text, comment string
}{
	reporter: "kemal@operations", author: "grace@sales",
	text:    "Selling two concert tickets for Saturday, half price, DM me!",
	comment: "Personal sales do not belong in the company timeline.",
}
