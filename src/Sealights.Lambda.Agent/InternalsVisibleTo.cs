using System.Runtime.CompilerServices;

// The delivery tests build spools and senders directly (their constructors take internal counters).
[assembly: InternalsVisibleTo("Sealights.Lambda.Agent.Delivery.Tests")]

// The lifecycle tests read the agent's diagnosis of an untraced runtime.
[assembly: InternalsVisibleTo("Sealights.Lambda.Agent.Tests")]
