package dbgen

// The distributions below are the data of TPC-H dbgen's dists.dss file
// (TPC-H tools 2.14.0; the same data is embedded in DuckDB's copy of dbgen,
// extension/tpch/dbgen/include/dbgen/dists_dss.h). Each list gives the
// members of one named distribution in file order with their weights as the
// file writes them (not cumulative). Order matters: dbgen picks a member by
// drawing j uniformly in [1, total weight] and taking the first member whose
// cumulative weight reaches j.

// member is one entry of a distribution: a word and its weight.
type member struct {
	text   string
	weight int64
}

// distNations is dists.dss "nations". The weights are not probabilities:
// their running sum is each nation's region key (n_regionkey).
var distNations = []member{
	{"ALGERIA", 0}, {"ARGENTINA", 1}, {"BRAZIL", 0}, {"CANADA", 0},
	{"EGYPT", 3}, {"ETHIOPIA", -4}, {"FRANCE", 3}, {"GERMANY", 0},
	{"INDIA", -1}, {"INDONESIA", 0}, {"IRAN", 2}, {"IRAQ", 0},
	{"JAPAN", -2}, {"JORDAN", 2}, {"KENYA", -4}, {"MOROCCO", 0},
	{"MOZAMBIQUE", 0}, {"PERU", 1}, {"CHINA", 1}, {"ROMANIA", 1},
	{"SAUDI ARABIA", 1}, {"VIETNAM", -2}, {"RUSSIA", 1}, {"UNITED KINGDOM", 0},
	{"UNITED STATES", -2},
}

// distRegions is dists.dss "regions".
var distRegions = ones("AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST")

// distPriorities is dists.dss "o_oprio" (o_orderpriority).
var distPriorities = ones("1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW")

// distInstructions is dists.dss "instruct" (l_shipinstruct).
var distInstructions = ones("DELIVER IN PERSON", "COLLECT COD", "TAKE BACK RETURN", "NONE")

// distShipModes is dists.dss "smode" (l_shipmode).
var distShipModes = ones("REG AIR", "AIR", "RAIL", "TRUCK", "MAIL", "FOB", "SHIP")

// distReturnFlags is dists.dss "rflag" (l_returnflag of returned items).
var distReturnFlags = ones("R", "A")

// distSegments is dists.dss "msegmnt" (c_mktsegment).
var distSegments = ones("AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY")

// distContainers is dists.dss "p_cntr" (p_container): every size with every
// kind, sizes outermost.
var distContainers = cross(
	[]string{"SM", "LG", "MED", "JUMBO", "WRAP"},
	[]string{"CASE", "BOX", "BAG", "JAR", "PACK", "PKG", "CAN", "DRUM"},
)

// distTypes is dists.dss "p_types" (p_type): the 150 combinations of the
// three syllables of TPC-H specification clause 4.2.2.13, first syllable
// outermost, all of weight 1.
var distTypes = cross(
	[]string{"STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"},
	[]string{"ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"},
	[]string{"TIN", "NICKEL", "BRASS", "STEEL", "COPPER"},
)

// distColors is dists.dss "colors", the words of p_name.
var distColors = ones(
	"almond", "antique", "aquamarine", "azure", "beige", "bisque", "black",
	"blanched", "blue", "blush", "brown", "burlywood", "burnished",
	"chartreuse", "chiffon", "chocolate", "coral", "cornflower", "cornsilk",
	"cream", "cyan", "dark", "deep", "dim", "dodger", "drab", "firebrick",
	"floral", "forest", "frosted", "gainsboro", "ghost", "goldenrod", "green",
	"grey", "honeydew", "hot", "indian", "ivory", "khaki", "lace", "lavender",
	"lawn", "lemon", "light", "lime", "linen", "magenta", "maroon", "medium",
	"metallic", "midnight", "mint", "misty", "moccasin", "navajo", "navy",
	"olive", "orange", "orchid", "pale", "papaya", "peach", "peru", "pink",
	"plum", "powder", "puff", "purple", "red", "rose", "rosy", "royal",
	"saddle", "salmon", "sandy", "seashell", "sienna", "sky", "slate", "smoke",
	"snow", "spring", "steel", "tan", "thistle", "tomato", "turquoise",
	"violet", "wheat", "white", "yellow",
)

// The text-pool vocabulary: dists.dss "nouns", "verbs", "adverbs",
// "prepositions", "auxiliaries", "terminators", "adjectives". The spelling
// "whithout" is dbgen's (the reference data contains it); later copies of
// dists.dss that correct it (as DuckDB's current one does) give different
// text in every comment.
var (
	distNouns = []member{
		{"packages", 40}, {"requests", 40}, {"accounts", 40}, {"deposits", 40},
		{"foxes", 20}, {"ideas", 20}, {"theodolites", 20}, {"pinto beans", 20},
		{"instructions", 20}, {"dependencies", 10}, {"excuses", 10},
		{"platelets", 10}, {"asymptotes", 10}, {"courts", 5}, {"dolphins", 5},
		{"multipliers", 1}, {"sauternes", 1}, {"warthogs", 1}, {"frets", 1},
		{"dinos", 1}, {"attainments", 1}, {"somas", 1}, {"Tiresias", 1},
		{"patterns", 1}, {"forges", 1}, {"braids", 1}, {"frays", 1},
		{"warhorses", 1}, {"dugouts", 1}, {"notornis", 1}, {"epitaphs", 1},
		{"pearls", 1}, {"tithes", 1}, {"waters", 1}, {"orbits", 1}, {"gifts", 1},
		{"sheaves", 1}, {"depths", 1}, {"sentiments", 1}, {"decoys", 1},
		{"realms", 1}, {"pains", 1}, {"grouches", 1}, {"escapades", 1},
		{"hockey players", 1},
	}
	distVerbs = []member{
		{"sleep", 20}, {"wake", 20}, {"are", 20}, {"cajole", 20}, {"haggle", 20},
		{"nag", 10}, {"use", 10}, {"boost", 10}, {"affix", 5}, {"detect", 5},
		{"integrate", 5}, {"maintain", 1}, {"nod", 1}, {"was", 1}, {"lose", 1},
		{"sublate", 1}, {"solve", 1}, {"thrash", 1}, {"promise", 1},
		{"engage", 1}, {"hinder", 1}, {"print", 1}, {"x-ray", 1}, {"breach", 1},
		{"eat", 1}, {"grow", 1}, {"impress", 1}, {"mold", 1}, {"poach", 1},
		{"serve", 1}, {"run", 1}, {"dazzle", 1}, {"snooze", 1}, {"doze", 1},
		{"unwind", 1}, {"kindle", 1}, {"play", 1}, {"hang", 1}, {"believe", 1},
		{"doubt", 1},
	}
	distAdverbs = []member{
		{"sometimes", 1}, {"always", 1}, {"never", 1}, {"furiously", 50},
		{"slyly", 50}, {"carefully", 50}, {"blithely", 40}, {"quickly", 30},
		{"fluffily", 20}, {"slowly", 1}, {"quietly", 1}, {"ruthlessly", 1},
		{"thinly", 1}, {"closely", 1}, {"doggedly", 1}, {"daringly", 1},
		{"bravely", 1}, {"stealthily", 1}, {"permanently", 1}, {"enticingly", 1},
		{"idly", 1}, {"busily", 1}, {"regularly", 1}, {"finally", 1},
		{"ironically", 1}, {"evenly", 1}, {"boldly", 1}, {"silently", 1},
	}
	distPrepositions = []member{
		{"about", 50}, {"above", 50}, {"according to", 50}, {"across", 50},
		{"after", 50}, {"against", 40}, {"along", 40}, {"alongside of", 30},
		{"among", 30}, {"around", 20}, {"at", 10}, {"atop", 1}, {"before", 1},
		{"behind", 1}, {"beneath", 1}, {"beside", 1}, {"besides", 1},
		{"between", 1}, {"beyond", 1}, {"by", 1}, {"despite", 1}, {"during", 1},
		{"except", 1}, {"for", 1}, {"from", 1}, {"in place of", 1}, {"inside", 1},
		{"instead of", 1}, {"into", 1}, {"near", 1}, {"of", 1}, {"on", 1},
		{"outside", 1}, {"over", 1}, {"past", 1}, {"since", 1}, {"through", 1},
		{"throughout", 1}, {"to", 1}, {"toward", 1}, {"under", 1}, {"until", 1},
		{"up", 1}, {"upon", 1}, {"whithout", 1}, // sic: dbgen's data misspells it
		{"with", 1}, {"within", 1},
	}
	distAuxiliaries = ones(
		"do", "may", "might", "shall", "will", "would", "can", "could", "should",
		"ought to", "must", "will have to", "shall have to", "could have to",
		"should have to", "must have to", "need to", "try to",
	)
	distTerminators = []member{
		{".", 50}, {";", 1}, {":", 1}, {"?", 1}, {"!", 1}, {"--", 1},
	}
	distAdjectives = []member{
		{"special", 20}, {"pending", 20}, {"unusual", 20}, {"express", 20},
		{"furious", 1}, {"sly", 1}, {"careful", 1}, {"blithe", 1}, {"quick", 1},
		{"fluffy", 1}, {"slow", 1}, {"quiet", 1}, {"ruthless", 1}, {"thin", 1},
		{"close", 1}, {"dogged", 1}, {"daring", 1}, {"brave", 1},
		{"stealthy", 1}, {"permanent", 1}, {"enticing", 1}, {"idle", 1},
		{"busy", 1}, {"regular", 50}, {"final", 40}, {"ironic", 40},
		{"even", 30}, {"bold", 20}, {"silent", 10},
	}
)

// The sentence grammar: dists.dss "grammar", "np" and "vp". The member
// texts document the productions (N noun phrase, V verb phrase,
// P prepositional phrase, T terminator; J adjective, D adverb, X auxiliary);
// textpool.go implements them in this order.
var (
	distGrammar = []member{
		{"N V T", 3}, {"N V P T", 3}, {"N V N T", 3}, {"N P V N T", 1}, {"N P V P T", 1},
	}
	distNounPhrases = []member{{"N", 10}, {"J N", 20}, {"J, J N", 10}, {"D J N", 50}}
	distVerbPhrases = []member{{"V", 30}, {"X V", 1}, {"V D", 40}, {"X V D", 1}}
)

// ones returns a distribution whose members all weigh 1.
func ones(words ...string) []member {
	m := make([]member, len(words))
	for i, w := range words {
		m[i] = member{w, 1}
	}
	return m
}

// cross returns the weight-1 distribution of all space-joined combinations
// of one word from each list, the first list varying slowest.
func cross(lists ...[]string) []member {
	out := []string{""}
	for _, l := range lists {
		next := make([]string, 0, len(out)*len(l))
		for _, prefix := range out {
			for _, w := range l {
				if prefix == "" {
					next = append(next, w)
				} else {
					next = append(next, prefix+" "+w)
				}
			}
		}
		out = next
	}
	return ones(out...)
}

// dist is a distribution prepared for picking: cumulative weights, and for
// the text pool a direct table from drawn value to member.
type dist struct {
	words  []string
	spaced []string // words[i] + " ", for the text pool
	cum    []int64  // running sum of weights
	total  int64    // cum[len-1]
	byVal  []int32  // member index for each value 0..total (the pick table)
}

func newDist(ms []member) *dist {
	d := &dist{words: make([]string, len(ms)), cum: make([]int64, len(ms))}
	var sum int64
	for i, m := range ms {
		sum += m.weight
		d.words[i] = m.text
		d.spaced = append(d.spaced, m.text+" ")
		d.cum[i] = sum
	}
	d.total = sum
	if sum > 0 {
		d.byVal = make([]int32, sum+1)
		i := 0
		for v := int64(0); v <= sum; v++ {
			for d.cum[i] < v {
				i++
			}
			d.byVal[v] = int32(i)
		}
	}
	return d
}

// pick draws one member as dbgen's pick_str does and returns its index.
func (d *dist) pick(s *stream) int {
	return int(d.byVal[s.draw(1, d.total)])
}

// Prepared distributions, built once at package initialization.
var (
	dPriorities   = newDist(distPriorities)
	dInstructions = newDist(distInstructions)
	dShipModes    = newDist(distShipModes)
	dReturnFlags  = newDist(distReturnFlags)
	dSegments     = newDist(distSegments)
	dContainers   = newDist(distContainers)
	dTypes        = newDist(distTypes)

	dNouns        = newDist(distNouns)
	dVerbs        = newDist(distVerbs)
	dAdverbs      = newDist(distAdverbs)
	dPrepositions = newDist(distPrepositions)
	dAuxiliaries  = newDist(distAuxiliaries)
	dTerminators  = newDist(distTerminators)
	dAdjectives   = newDist(distAdjectives)
	dGrammar      = newDist(distGrammar)
	dNounPhrases  = newDist(distNounPhrases)
	dVerbPhrases  = newDist(distVerbPhrases)
)
