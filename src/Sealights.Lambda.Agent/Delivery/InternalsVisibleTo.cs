using System.Runtime.CompilerServices;

// The delivery tests build spools and senders directly (their constructors take internal counters).
[assembly: InternalsVisibleTo("Sealights.Lambda.Agent.Delivery.Tests")]
